namespace IoMT.Deployment.Cli.Output;


// The JSON contract of every command's result. Build numbers are strings; times are ISO 8601; durations in milliseconds.

/// <summary>A failed command, in JSON mode.</summary>
internal sealed record ErrorResult(ErrorDetail Error);
