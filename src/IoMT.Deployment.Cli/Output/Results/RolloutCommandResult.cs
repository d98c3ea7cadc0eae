namespace IoMT.Deployment.Cli.Output;

/// <summary>The result of <c>rollout pause|resume|promote|abort</c>.</summary>
internal sealed record RolloutCommandResult(OperatorAction Action, string Actor, string? Reason, RolloutStateResult Rollout);
