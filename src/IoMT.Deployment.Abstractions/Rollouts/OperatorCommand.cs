using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>An operator's command, as recorded on the rollout.</summary>
/// <param name="Action">The command.</param>
/// <param name="Actor">Who gave it (the signed-in identity).</param>
/// <param name="Reason">Why, when given.</param>
/// <param name="At">When.</param>
public sealed record OperatorCommand(OperatorAction Action, string Actor, string? Reason, DateTimeOffset At);
