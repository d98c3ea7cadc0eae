namespace IoMT.Deployment.Loopback;

/// <summary>How an <see cref="AppServiceHost"/> behaves. Every value can also be changed on the running host where it has a setter there.</summary>
public sealed class AppServiceHostOptions
{
    /// <summary>Gets or sets how many sites one page of a sites listing holds before a <c>nextLink</c>.</summary>
    /// <value>The default is 100.</value>
    public int PageSize { get; set; } = 100;

    /// <summary>Gets or sets how long a zip deployment runs (Pending, Building, Deploying) before it ends; an app's <see cref="AppFaults.DeploymentDuration"/> overrides it.</summary>
    /// <value>The default is 20 ms.</value>
    public TimeSpan DeploymentDuration { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Gets or sets a value indicating whether a JWT's audience must fit the route, as in Azure: ARM accepts
    /// <c>https://management.azure.com</c> and <c>https://management.core.windows.net</c>, the scm site only the latter.
    /// Tokens that are not JWTs are accepted whatever they are (a bearer token is still required on every route).
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool EnforceAudience { get; set; } = true;

    /// <summary>Gets or sets the token bucket ARM reads (GET, list calls) are limited by, or <see langword="null"/> for none.</summary>
    public ThrottleSettings? ArmReadThrottle { get; set; }

    /// <summary>Gets or sets the token bucket ARM writes (settings PUT, trigger sync) are limited by, or <see langword="null"/> for none.</summary>
    public ThrottleSettings? ArmWriteThrottle { get; set; }

    /// <summary>Gets or sets the <c>Retry-After</c> seconds sent with a 429 injected by <see cref="AppFaults.TooManyRequests"/>.</summary>
    /// <value>The default is 1.</value>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Gets or sets a value indicating whether deployed files keep their bytes (<see cref="DeployedFile.Content"/>); otherwise only length and SHA-256 are kept, which keeps a large benchmark light.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool RetainFileContent { get; set; }

    /// <summary>Gets or sets the largest zip upload accepted, in bytes.</summary>
    /// <value>The default is 512 MiB.</value>
    public long MaxUploadBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Gets or sets the clock of the host (timestamps, deployment durations, latency, token buckets).</summary>
    /// <value>The default is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

/// <summary>An ARM-like token bucket: <paramref name="Burst"/> requests at once, refilled at <paramref name="RefillPerSecond"/>; over it, 429 with <c>Retry-After</c>.</summary>
/// <param name="Burst">The bucket size.</param>
/// <param name="RefillPerSecond">The tokens added per second.</param>
/// <param name="RetryAfterSeconds">The <c>Retry-After</c> sent with a 429.</param>
public sealed record ThrottleSettings(int Burst, double RefillPerSecond, int RetryAfterSeconds = 1);
