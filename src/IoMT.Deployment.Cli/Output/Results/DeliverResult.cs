namespace IoMT.Deployment.Cli.Output;

/// <summary>The result of <c>deliver</c>.</summary>
internal sealed record DeliverResult(string Build, DeliveryOutcome Outcome, string Sha256, long Size, string? SameAsBuild, bool Written);
