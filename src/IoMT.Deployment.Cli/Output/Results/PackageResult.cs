namespace IoMT.Deployment.Cli.Output;

/// <summary>The result of <c>package</c>.</summary>
internal sealed record PackageResult(string File, int Files, long Size, string Sha256);
