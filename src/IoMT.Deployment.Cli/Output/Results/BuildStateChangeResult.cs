namespace IoMT.Deployment.Cli.Output;

/// <summary>The result of <c>invalidate</c> and <c>reinstate</c>.</summary>
internal sealed record BuildStateChangeResult(string Build, bool Invalidated, bool Changed, string Actor, string? Reason);
