using IoMT.Deployment;
using IoMT.Deployment.Local;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composes the engine's own parts: the hourly update worker and the rollout policy.</summary>
public static class EngineDeploymentBuilderExtensions
{
    /// <summary>Adds the hourly update worker as a hosted service.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the period and the initial delay.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddUpdateWorker(this IIoMTDeploymentBuilder builder, Action<UpdateWorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions(configure);

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, UpdateWorker>());
        return builder;
    }

    /// <summary>Replaces the rollout policy (canary rings, waves, failure thresholds).</summary>
    /// <typeparam name="TPolicy">The policy type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder UseRolloutPolicy<TPolicy>(this IIoMTDeploymentBuilder builder)
        where TPolicy : class, IRolloutPolicy
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IRolloutPolicy, TPolicy>());
        return builder;
    }
}
