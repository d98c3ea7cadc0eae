using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace IoMT.Deployment.Diagnostics;

/// <summary>
/// The metrics and traces of IoMT.Deployment, under the name <see cref="DeploymentTelemetry.Name"/> so OpenTelemetry
/// can collect them (<c>AddMeter("IoMT.Deployment")</c>, <c>AddSource("IoMT.Deployment")</c>).
/// </summary>
/// <remarks>
/// Instruments: <c>iomt.deployment.checks</c> (counter; tag <c>result</c>: <c>update_detected</c>, <c>no_update</c>),
/// <c>iomt.deployment.connectors</c> (counter; tags <c>kind</c>, <c>outcome</c>),
/// <c>iomt.deployment.connector.duration</c> (histogram, seconds; tags <c>kind</c>, <c>outcome</c>),
/// <c>iomt.deployment.rollouts</c> (counter; tags <c>kind</c>, <c>result</c>: <c>succeeded</c>, <c>incomplete</c>),
/// <c>iomt.deployment.errors</c> (counter; tag <c>operation</c>),
/// <c>iomt.deployment.waves</c> (counter; tag <c>verdict</c>: <c>passed</c>, <c>halted</c>, <c>no_data</c>),
/// <c>iomt.deployment.rollout.transitions</c> (counter; tag <c>status</c>: the status a rollout moved to),
/// <c>iomt.deployment.rollout.wave</c> (gauge: the index of the current wave of the active rollout, -1 when none).
/// </remarks>
public sealed class DeploymentMetrics : IDisposable
{
    /// <summary>The activity source for rollout spans.</summary>
    public static readonly ActivitySource ActivitySource = new(DeploymentTelemetry.Name);

    private readonly Meter? _ownedMeter;
    private readonly Counter<long> _checks;
    private readonly Counter<long> _connectors;
    private readonly Histogram<double> _connectorDuration;
    private readonly Counter<long> _rollouts;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _waves;
    private readonly Counter<long> _transitions;
    private int _currentWave = -1;

    /// <summary>Creates the instruments from a meter factory, or from a meter of its own when there is none.</summary>
    /// <param name="meterFactory">The host's meter factory, when it has one.</param>
    public DeploymentMetrics(IMeterFactory? meterFactory = null)
    {
        Meter meter;
        if (meterFactory is null)
        {
            meter = _ownedMeter = new Meter(DeploymentTelemetry.Name);
        }
        else
        {
            meter = meterFactory.Create(DeploymentTelemetry.Name);
        }

        Meter = meter;
        _checks = meter.CreateCounter<long>("iomt.deployment.checks", description: "Update checks, by result.");
        _connectors = meter.CreateCounter<long>("iomt.deployment.connectors", description: "Connectors handled by rollouts, by kind and outcome.");
        _connectorDuration = meter.CreateHistogram<double>("iomt.deployment.connector.duration", unit: "s", description: "Time taken to bring one connector's app service to the target build.");
        _rollouts = meter.CreateCounter<long>("iomt.deployment.rollouts", description: "Finished rollouts, by kind and result.");
        _errors = meter.CreateCounter<long>("iomt.deployment.errors", description: "Exceptions, by operation.");
        _waves = meter.CreateCounter<long>("iomt.deployment.waves", description: "Wave gate verdicts, by verdict.");
        _transitions = meter.CreateCounter<long>("iomt.deployment.rollout.transitions", description: "Rollout status changes, by the status moved to.");
        meter.CreateObservableGauge("iomt.deployment.rollout.wave", () => Volatile.Read(ref _currentWave), description: "The index of the active rollout's current wave; -1 when no rollout is active.");
    }

    internal void WaveJudged(string verdict) =>
        _waves.Add(1, new KeyValuePair<string, object?>("verdict", verdict));

    internal void RolloutTransition(RolloutRecord record)
    {
        _transitions.Add(1, new KeyValuePair<string, object?>("status", record.Status.ToString()));
        Volatile.Write(ref _currentWave, record.IsActive ? record.Wave : -1);
    }

    /// <summary>Gets the meter the instruments belong to.</summary>
    internal Meter Meter { get; }

    internal void CheckCompleted(bool updateDetected) =>
        _checks.Add(1, new KeyValuePair<string, object?>("result", updateDetected ? "update_detected" : "no_update"));

    internal void ConnectorCompleted(RolloutKind kind, ConnectorOutcome outcome, TimeSpan duration)
    {
        var tags = new TagList { { "kind", KindTag(kind) }, { "outcome", OutcomeTag(outcome) } };
        _connectors.Add(1, tags);
        _connectorDuration.Record(duration.TotalSeconds, tags);
    }

    internal void RolloutCompleted(RolloutKind kind, bool succeeded) =>
        _rollouts.Add(1, new KeyValuePair<string, object?>("kind", KindTag(kind)), new KeyValuePair<string, object?>("result", succeeded ? "succeeded" : "incomplete"));

    internal void Error(string operation) =>
        _errors.Add(1, new KeyValuePair<string, object?>("operation", operation));

    private static string KindTag(RolloutKind kind) => kind switch
    {
        RolloutKind.Update => "update",
        RolloutKind.Straggler => "straggler",
        RolloutKind.Rollback => "rollback",
        RolloutKind.Provision => "provision",
        _ => "unknown",
    };

    private static string OutcomeTag(ConnectorOutcome outcome) => outcome switch
    {
        ConnectorOutcome.Updated => "updated",
        ConnectorOutcome.AlreadyCurrent => "already_current",
        ConnectorOutcome.Deleted => "deleted",
        ConnectorOutcome.Failed => "failed",
        ConnectorOutcome.Stopped => "stopped",
        ConnectorOutcome.Pinned => "pinned",
        ConnectorOutcome.Excluded => "excluded",
        ConnectorOutcome.RolledBack => "rolled_back",
        _ => "unknown",
    };

    /// <inheritdoc/>
    public void Dispose() => _ownedMeter?.Dispose();
}
