namespace IoMT.Deployment.Cli.Output;

/// <summary>An operator command recorded on a rollout.</summary>
internal sealed record CommandResult(OperatorAction Action, string Actor, string? Reason, DateTimeOffset At);
