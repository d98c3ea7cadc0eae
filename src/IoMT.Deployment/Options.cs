using System.ComponentModel.DataAnnotations;
using IoMT.Deployment.Composition;

namespace IoMT.Deployment;

/// <summary>How the engine rolls a build out.</summary>
[OptionsSection(SectionName)]
public sealed class RolloutOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:Rollout";

    /// <summary>Gets or sets how many connectors are deployed or verified at once.</summary>
    /// <value>16. Between 1 and 1024.</value>
    [Range(1, 1024, ErrorMessage = "{0} must be between 1 and 1024.")]
    public int MaxParallelism { get; set; } = 16;

    /// <summary>Gets or sets how many times a version-state change is re-read and re-applied after another writer changed the state first.</summary>
    /// <value>3. Between 1 and 20.</value>
    [Range(1, 20, ErrorMessage = "{0} must be between 1 and 20.")]
    public int StateWriteAttempts { get; set; } = 3;

    /// <summary>Gets or sets who is recorded as the actor of changes the engine makes on its own (invalidations by a rollback name their own actor).</summary>
    /// <value><c>iomt-update-worker</c>.</value>
    [Required(AllowEmptyStrings = false, ErrorMessage = "{0} is required.")]
    public string Actor { get; set; } = "iomt-update-worker";

    /// <summary>Gets or sets the most connector names written in the one "app services updated" log line; the rest are counted.</summary>
    /// <value>1000.</value>
    [Range(0, 1_000_000, ErrorMessage = "{0} must be between 0 and 1000000.")]
    public int MaxConnectorsListedInLog { get; set; } = 1000;

    /// <summary>
    /// Gets or sets how often a running rollout re-reads the version state to learn that its target was invalidated
    /// (or a rollback asked it to stop). No connector starts a deployment of a build later than this after the build's
    /// invalidation was stored.
    /// </summary>
    /// <value>5 seconds. Between 00:00:00.050 and 00:05:00.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00", ErrorMessage = "{0} must be between 00:00:00.050 and 00:05:00.")]
    public TimeSpan StateWatchInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a rollback issued while another rollout holds the lock waits for it. The rollback first
    /// invalidates the bad build, which stops the running rollout within <see cref="StateWatchInterval"/>, then waits for the lock.
    /// </summary>
    /// <value>2 minutes. Between 00:00:00 (do not wait) and 01:00:00.</value>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "{0} must be between 00:00:00 and 01:00:00.")]
    public TimeSpan RollbackLockWait { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Gets or sets how long the connector steps already running may finish when the rollout's caller cancels (the
    /// worker's host stopping, Ctrl+C). From the cancellation no new step starts; a running one (a zip deploy and its
    /// <c>PROJECT_VERSION</c> write) goes on for up to this long, so the resumed rollout does not deploy it again. Give
    /// the host a longer shutdown timeout (<c>HostOptions.ShutdownTimeout</c>) than this.
    /// </summary>
    /// <value>20 seconds (under the Generic Host's default 30 s shutdown timeout). Between 00:00:00 (cancel at once) and 01:00:00.</value>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "{0} must be between 00:00:00 and 01:00:00.")]
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Gets the waves a new build goes out in, in order. Empty (the default): one wave with every connector, no bake, no gate.
    /// A connector belongs to the first wave that selects it; connectors no wave selects belong to the last wave.
    /// </summary>
    public IList<WaveOptions> Waves { get; } = [];

    /// <summary>Gets or sets what a rollout does when a wave goes over its failure threshold.</summary>
    /// <value><see cref="HaltAction.Rollback"/>.</value>
    public HaltAction OnHalt { get; set; } = HaltAction.Rollback;

    /// <summary>Gets or sets the salt of the stable hash that assigns connectors to percentage waves; change it to draw a different canary sample.</summary>
    /// <value><c>iomt</c>.</value>
    public string Salt { get; set; } = "iomt";

    /// <summary>Gets or sets how many ticks may deploy a wave whose connectors keep failing transiently before those failures count against its threshold.</summary>
    /// <value>3. Between 1 and 100.</value>
    [Range(1, 100, ErrorMessage = "{0} must be between 1 and 100.")]
    public int MaxWaveAttempts { get; set; } = 3;

    /// <summary>Gets or sets the time one connector's deployment is assumed to take, for the dry run's estimate.</summary>
    /// <value>1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "{0} must be between 00:00:00 and 1.00:00:00.")]
    public TimeSpan EstimatedConnectorTime { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>One wave of a progressive rollout (<c>IoMTDeployment:Rollout:Waves:N</c>).</summary>
public sealed class WaveOptions
{
    /// <summary>Gets or sets the wave's name (unique).</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Gets or sets a value indicating whether the wave selects the connectors flagged canary in the inventory.</summary>
    public bool Canary { get; set; }

    /// <summary>Gets or sets a tag the wave selects, as <c>key=value</c> (e.g. <c>tier=free</c>).</summary>
    public string? Tag { get; set; }

    /// <summary>Gets the ids of connectors the wave selects.</summary>
    public IList<string> Connectors { get; } = [];

    /// <summary>Gets or sets the cumulative share of the fleet reached once this wave is done (0 to 100), assigned by a stable hash of the connector id.</summary>
    public double? Percent { get; set; }

    /// <summary>Gets or sets how long the wave bakes after it is verified, before its health gate is judged.</summary>
    /// <value>Zero.</value>
    public TimeSpan BakeTime { get; set; }

    /// <summary>Gets or sets the most failed (or unhealthy) connectors the wave tolerates.</summary>
    /// <value><see langword="null"/>: with <see cref="MaxFailedPercent"/> also unset, none.</value>
    public int? MaxFailed { get; set; }

    /// <summary>Gets or sets the largest share, in percent, of failed (or unhealthy) connectors the wave tolerates.</summary>
    public double? MaxFailedPercent { get; set; }

    /// <summary>Gets or sets a value indicating whether the rollout waits for an operator's promote before this wave.</summary>
    public bool RequireApproval { get; set; }

    /// <summary>Gets or sets a value indicating whether the wave's gate asks the health signals (no data pauses the rollout).</summary>
    /// <value><see langword="true"/>.</value>
    public bool RequireHealth { get; set; } = true;
}

/// <summary>When the hourly update worker runs.</summary>
[OptionsSection(SectionName)]
public sealed class UpdateWorkerOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:Worker";

    /// <summary>Gets or sets the time between two update checks.</summary>
    /// <value>One hour. Between one second and one day.</value>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "{0} must be between 00:00:01 and 1.00:00:00.")]
    public TimeSpan Period { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets the delay before the first check after the host starts.</summary>
    /// <value>30 seconds. Between zero and one day.</value>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "{0} must be between 00:00:00 and 1.00:00:00.")]
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the time between two ticks while a rollout is active (running, baking, awaiting approval, paused); a bake's end is ticked at on time.</summary>
    /// <value>1 minute. Between 00:00:01 and 1.00:00:00.</value>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "{0} must be between 00:00:01 and 1.00:00:00.")]
    public TimeSpan ActivePeriod { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Where the embedded local provider keeps builds, state, connectors and their deployed code.</summary>
/// <remarks>
/// Layout under <see cref="Root"/>: <c>artifacts/{build}.zip</c> (with a <c>.sha256</c> sidecar), <c>state.json</c>,
/// <c>history.json</c>, <c>connectors.json</c>, <c>connectors/{id}/site/wwwroot</c> and <c>connectors/{id}/appsettings.json</c>.
/// </remarks>
[OptionsSection(SectionName)]
public sealed class LocalProviderOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:Local";

    /// <summary>Gets or sets the root folder.</summary>
    /// <value><c>./.iomt</c>.</value>
    [Required(AllowEmptyStrings = false, ErrorMessage = "{0} is required.")]
    public string Root { get; set; } = ".iomt";

    /// <summary>Gets or sets the largest package accepted, in bytes.</summary>
    /// <value>512 MiB.</value>
    [Range(1L, long.MaxValue, ErrorMessage = "{0} must be positive.")]
    public long MaxPackageBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Gets or sets the most bytes a package may extract to (a guard against zip bombs).</summary>
    /// <value>2 GiB.</value>
    [Range(1L, long.MaxValue, ErrorMessage = "{0} must be positive.")]
    public long MaxExtractedBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Gets or sets the most entries a package may hold.</summary>
    /// <value>100,000.</value>
    [Range(1, int.MaxValue, ErrorMessage = "{0} must be positive.")]
    public int MaxEntries { get; set; } = 100_000;

    /// <summary>Gets or sets how many rollouts the history keeps.</summary>
    /// <value>100.</value>
    [Range(1, 100_000, ErrorMessage = "{0} must be between 1 and 100000.")]
    public int HistoryLimit { get; set; } = 100;
}
