import {
  ActionStatus,
  CLIENT_VERSION,
  agentNeedsNops,
  answerHandshake,
  forwardingMode,
} from '../../src/ssm/handshake.js';

const portRequest = (extra: object[] = []) => ({
  AgentVersion: '3.3.1802.0',
  RequestedClientActions: [
    {
      ActionType: 'SessionType',
      ActionParameters: { SessionType: 'Port', Properties: { portNumber: '80', type: 'LocalPortForwarding' } },
    },
    ...extra,
  ] as Array<{ ActionType: string; ActionParameters?: unknown }>,
});

describe('answerHandshake', () => {
  it('accepts a Port session with a version that selects mux and avoids the keep-alive trap', () => {
    const outcome = answerHandshake(portRequest());
    expect(outcome.response).toEqual({
      ClientVersion: CLIENT_VERSION,
      ProcessedClientActions: [{ ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' }],
      Errors: null,
    });
    expect(outcome.properties).toEqual({ portNumber: '80', type: 'LocalPortForwarding' });
    expect(outcome.error).toBeUndefined();
  });

  it('answers every action: KMS failed, unknown unsupported (never silence)', () => {
    const outcome = answerHandshake(portRequest([{ ActionType: 'KMSEncryption' }, { ActionType: 'Teleport' }]));
    expect(outcome.response.ProcessedClientActions.map((a) => a.ActionStatus)).toEqual([
      ActionStatus.Success,
      ActionStatus.Failed,
      ActionStatus.Unsupported,
    ]);
    expect(outcome.error).toMatch(/KMS/);
  });

  it('refuses shell sessions', () => {
    const outcome = answerHandshake({
      AgentVersion: '3.3.0.0',
      RequestedClientActions: [{ ActionType: 'SessionType', ActionParameters: { SessionType: 'Standard_Stream' } }],
    });
    expect(outcome.response.ProcessedClientActions[0]!.ActionStatus).toBe(ActionStatus.Unsupported);
  });
});

describe('mode and keep-alive rules', () => {
  it.each([
    [{ type: 'LocalPortForwarding' }, '3.3.1802.0', 'mux'],
    [{ type: 'LocalPortForwarding' }, '3.0.222.0', 'mux'],
    [{ type: 'LocalPortForwarding' }, '3.0.196.0', 'basic'],
    [{ type: 'LocalPortForwarding' }, 'unknown', 'basic'],
    [{}, '3.3.1802.0', 'basic'],
  ])('%j with agent %s → %s', (properties, agent, mode) => {
    expect(forwardingMode(properties as Record<string, string>, agent)).toBe(mode);
  });

  it('sends NOPs only to agents that keep smux keep-alive on regardless of the client', () => {
    expect(agentNeedsNops('3.1.1476.0')).toBe(true);
    expect(agentNeedsNops('3.1.1511.0')).toBe(true);
    expect(agentNeedsNops('3.1.1575.0')).toBe(false);
  });
});
