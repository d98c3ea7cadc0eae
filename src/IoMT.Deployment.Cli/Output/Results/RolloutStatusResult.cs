namespace IoMT.Deployment.Cli.Output;

/// <summary>The result of <c>rollout status</c>.</summary>
internal sealed record RolloutStatusResult(string? Current, RolloutStateResult? Rollout, IReadOnlyList<PinResult> Pins);
