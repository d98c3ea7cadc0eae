namespace IoMT.Deployment.Cli.Output;

/// <summary>The result of <c>connectors pin</c> and <c>connectors unpin</c>.</summary>
internal sealed record PinChangeResult(string Connector, bool Pinned, string? Build, bool Excluded, bool Changed, string Actor, string? Reason);
