using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>A version state as read, with the ETag every write must present.</summary>
/// <param name="State">The state.</param>
/// <param name="ETag">The ETag, or <see langword="null"/> when no state was written yet.</param>
public sealed record VersionStateEntry(VersionState State, string? ETag);
