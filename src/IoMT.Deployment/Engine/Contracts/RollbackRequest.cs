namespace IoMT.Deployment;

/// <summary>What a rollback does.</summary>
/// <param name="Reason">Why the bad build is invalidated.</param>
/// <param name="Actor">Who asked for the rollback.</param>
/// <param name="To">The build to roll back to; every build between it and the bad one is invalidated too. <see langword="null"/>: the newest valid build older than the bad one.</param>
public sealed record RollbackRequest(string Reason, string Actor, BuildNumber? To = null);
