using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>Why and when a build was invalidated, and by whom.</summary>
/// <param name="Build">The build.</param>
/// <param name="Reason">The operator's reason.</param>
/// <param name="At">When it was invalidated.</param>
/// <param name="Actor">Who invalidated it.</param>
public sealed record BuildInvalidation(BuildNumber Build, string Reason, DateTimeOffset At, string Actor);
