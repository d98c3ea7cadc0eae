namespace IoMT.Deployment.Cli.Output;

/// <summary>An invalidated build.</summary>
internal sealed record InvalidationResult(string Build, string Reason, DateTimeOffset At, string Actor)
{
    public static InvalidationResult Of(BuildInvalidation invalidation) =>
        new(invalidation.Build.ToString(), invalidation.Reason, invalidation.At, invalidation.Actor);
}
