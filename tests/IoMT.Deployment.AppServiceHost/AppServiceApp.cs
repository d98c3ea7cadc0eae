using System.Collections.Concurrent;
using System.Collections.ObjectModel;

namespace IoMT.Deployment.Loopback;

/// <summary>A file the last successful deployment put in an app's content (wwwroot).</summary>
/// <param name="Path">The path in the zip, with forward slashes.</param>
/// <param name="Length">The size in bytes.</param>
/// <param name="Sha256">The lowercase hex SHA-256 of the bytes.</param>
/// <param name="Content">The bytes, when <see cref="AppServiceHostOptions.RetainFileContent"/> is set.</param>
public sealed record DeployedFile(string Path, long Length, string Sha256, ReadOnlyMemory<byte>? Content);

/// <summary>One zip deployment as the host recorded it (Kudu's <c>DeployResult</c>).</summary>
/// <param name="Id">The deployment id.</param>
/// <param name="Status">Kudu's <c>DeployStatus</c> number (0 Pending … 3 Failed, 4 Success; anything else when injected).</param>
/// <param name="StatusText">The status text.</param>
/// <param name="Complete">Whether the deployment ended.</param>
/// <param name="ReceivedTime">When the zip was received.</param>
/// <param name="EndTime">When it ended.</param>
/// <param name="PackageSha256">The lowercase hex SHA-256 of the zip received.</param>
public sealed record DeploymentRecord(string Id, int Status, string StatusText, bool Complete, DateTimeOffset ReceivedTime, DateTimeOffset? EndTime, string PackageSha256);

/// <summary>
/// Faults injected into one app's answers. Counters are consumed one per matching request; set them from any thread.
/// </summary>
public sealed class AppFaults
{
    private int _conflicts;
    private int _serverErrors;
    private int _nonJsonStatusAnswers;
    private int _tooManyRequests;
    private int _failDeployments;
    private int _deleteDuringNextDeployment;
    private int _missingDeploymentAnswers;
    private int _previousDeploymentAnswers;
    private int _scmUnreachable;
    private int _locationNamesDeployment;
    private long _latencyTicks;
    private long _deploymentDurationTicks = -1;
    private long _finalStatus = long.MinValue;
    private TaskCompletionSource? _hold;
    private readonly ConcurrentDictionary<AppServiceRoute, int> _routeServerErrors = new();

    /// <summary>Gets or sets a delay added to every request for the app.</summary>
    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks));
        set => Interlocked.Exchange(ref _latencyTicks, value.Ticks);
    }

    /// <summary>Gets or sets how many of the next zip deploys are answered <c>409</c> (a deployment in progress), even when none runs.</summary>
    public int Conflicts { get => Volatile.Read(ref _conflicts); set => Volatile.Write(ref _conflicts, value); }

    /// <summary>Gets or sets how many of the next requests for the app (ARM or scm) are answered with a server error (ARM 500 JSON, scm 503 HTML).</summary>
    public int ServerErrors { get => Volatile.Read(ref _serverErrors); set => Volatile.Write(ref _serverErrors, value); }

    /// <summary>Makes the next <paramref name="count"/> requests of one route for the app answer a server error (on top of <see cref="ServerErrors"/>).</summary>
    /// <param name="route">The route, e.g. <see cref="AppServiceRoute.ZipDeploy"/> or <see cref="AppServiceRoute.DeploymentStatus"/>.</param>
    /// <param name="count">How many requests.</param>
    public void InjectServerErrors(AppServiceRoute route, int count) => _routeServerErrors[route] = count;

    /// <summary>Gets how many server errors are still to be injected into a route.</summary>
    /// <param name="route">The route.</param>
    /// <returns>The count.</returns>
    public int ServerErrorsFor(AppServiceRoute route) => _routeServerErrors.TryGetValue(route, out var n) ? n : 0;

    /// <summary>Gets or sets how many of the next deployment status reads are answered <c>200</c> with an HTML page (the scm site restarting).</summary>
    public int NonJsonStatusAnswers { get => Volatile.Read(ref _nonJsonStatusAnswers); set => Volatile.Write(ref _nonJsonStatusAnswers, value); }

    /// <summary>Gets or sets how many of the next requests for the app are answered <c>429</c> with <c>Retry-After</c>.</summary>
    public int TooManyRequests { get => Volatile.Read(ref _tooManyRequests); set => Volatile.Write(ref _tooManyRequests, value); }

    /// <summary>Gets or sets how many of the next deployments end Failed (status 3).</summary>
    public int FailDeployments { get => Volatile.Read(ref _failDeployments); set => Volatile.Write(ref _failDeployments, value); }

    /// <summary>Gets or sets the status every next deployment ends with instead of Success (e.g. 42, unknown to Kudu clients), or <see langword="null"/>.</summary>
    public int? FinalStatus
    {
        get => Interlocked.Read(ref _finalStatus) is var s and not long.MinValue ? (int)s : null;
        set => Interlocked.Exchange(ref _finalStatus, value ?? long.MinValue);
    }

    /// <summary>Gets or sets a value indicating whether the app is deleted as soon as its next deployment starts.</summary>
    public bool DeleteDuringNextDeployment
    {
        get => Volatile.Read(ref _deleteDuringNextDeployment) != 0;
        set => Volatile.Write(ref _deleteDuringNextDeployment, value ? 1 : 0);
    }

    /// <summary>
    /// Gets or sets how many of the next deployment status reads are answered <c>404</c> ("Deployment 'latest' not found")
    /// although the app lives, as Kudu answers for an app that has no deployment record.
    /// </summary>
    public int MissingDeploymentAnswers { get => Volatile.Read(ref _missingDeploymentAnswers); set => Volatile.Write(ref _missingDeploymentAnswers, value); }

    /// <summary>
    /// Gets or sets how many of the next deployment status reads answer the deployment before the newest one (another
    /// deployment id, complete), as a <c>latest</c> that does not yet name the deployment just started.
    /// </summary>
    public int PreviousDeploymentAnswers { get => Volatile.Read(ref _previousDeploymentAnswers); set => Volatile.Write(ref _previousDeploymentAnswers, value); }

    /// <summary>
    /// Gets or sets a value indicating whether the app's scm host cannot be reached: new connections to it are refused
    /// (by the host's <see cref="AppServiceHost.CreateHttpMessageHandler"/>) and requests on open ones are dropped.
    /// ARM is not affected; the fault outlives the app's deletion.
    /// </summary>
    public bool ScmUnreachable
    {
        get => Volatile.Read(ref _scmUnreachable) != 0;
        set => Volatile.Write(ref _scmUnreachable, value ? 1 : 0);
    }

    /// <summary>
    /// Gets or sets a value indicating whether the zip deploy's <c>Location</c> names the deployment
    /// (<c>/api/deployments/{id}</c>, served too) instead of <c>/api/deployments/latest</c>, and no <c>SCM-DEPLOYMENT-ID</c> is sent.
    /// </summary>
    public bool LocationNamesDeployment
    {
        get => Volatile.Read(ref _locationNamesDeployment) != 0;
        set => Volatile.Write(ref _locationNamesDeployment, value ? 1 : 0);
    }

    /// <summary>Gets or sets how long the app's deployments run, or <see langword="null"/> for <see cref="AppServiceHostOptions.DeploymentDuration"/>.</summary>
    public TimeSpan? DeploymentDuration
    {
        get => Interlocked.Read(ref _deploymentDurationTicks) is var t and >= 0 ? TimeSpan.FromTicks(t) : null;
        set => Interlocked.Exchange(ref _deploymentDurationTicks, value?.Ticks ?? -1);
    }

    /// <summary>
    /// Holds the app's deployments in Building (status 1) from now until <see cref="ReleaseDeployments"/>: a deployment that
    /// starts, or runs, meanwhile does not end, so a test acts while it certainly runs instead of racing its duration.
    /// </summary>
    public void HoldDeployments() =>
        Interlocked.CompareExchange(ref _hold, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);

    /// <summary>Lets held deployments (<see cref="HoldDeployments"/>) run on to their end.</summary>
    public void ReleaseDeployments() => Interlocked.Exchange(ref _hold, null)?.TrySetResult();

    internal Task WhileHeldAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _hold) is { } hold ? hold.Task.WaitAsync(cancellationToken) : Task.CompletedTask;

    internal bool TakeConflict() => Take(ref _conflicts);

    internal bool TakeServerError(AppServiceRoute route)
    {
        while (_routeServerErrors.TryGetValue(route, out var n) && n > 0)
        {
            if (_routeServerErrors.TryUpdate(route, n - 1, n))
            {
                return true;
            }
        }

        return Take(ref _serverErrors);
    }

    internal bool TakeNonJsonStatus() => Take(ref _nonJsonStatusAnswers);

    internal bool TakeTooManyRequests() => Take(ref _tooManyRequests);

    internal bool TakeFailDeployment() => Take(ref _failDeployments);

    internal bool TakeMissingDeployment() => Take(ref _missingDeploymentAnswers);

    internal bool TakePreviousDeployment() => Take(ref _previousDeploymentAnswers);

    internal bool TakeDeleteDuringDeployment() => Interlocked.Exchange(ref _deleteDuringNextDeployment, 0) != 0;

    private static bool Take(ref int counter)
    {
        while (true)
        {
            var current = Volatile.Read(ref counter);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref counter, current - 1, current) == current)
            {
                return true;
            }
        }
    }
}

/// <summary>A Function app (or any site) served by an <see cref="AppServiceHost"/>: its settings, content and counters.</summary>
public sealed class AppServiceApp
{
    /// <summary>Gets what the health routes (host status, metrics) answer for the app.</summary>
    public AppHealth Health { get; } = new();

    private readonly Lock _lock = new();
    private readonly List<DeploymentRecord> _deployments = [];
    private Dictionary<string, string> _settings;
    private Dictionary<string, DeployedFile> _files = new(StringComparer.Ordinal);
    private string? _deployedPackageSha256;
    private DeploymentRecord? _running;
    private bool _runningInterrupted;
    private int _deploymentCount;
    private int _zipDeployCount;
    private int _settingsWriteCount;
    private int _syncTriggersCount;
    private int _interruptedDeployments;
    private int _deleted;

    internal AppServiceApp(string subscriptionId, string resourceGroup, string name, string kind, IReadOnlyDictionary<string, string> tags, IReadOnlyDictionary<string, string> settings, string scmHostName)
    {
        SubscriptionId = subscriptionId;
        ResourceGroup = resourceGroup;
        Name = name;
        Kind = kind;
        Tags = new ReadOnlyDictionary<string, string>(new Dictionary<string, string>(tags, StringComparer.OrdinalIgnoreCase));
        _settings = new Dictionary<string, string>(settings, StringComparer.Ordinal);
        ScmHostName = scmHostName;
        ResourceId = $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Web/sites/{name}";
    }

    /// <summary>Gets the subscription id.</summary>
    public string SubscriptionId { get; }

    /// <summary>Gets the resource group.</summary>
    public string ResourceGroup { get; }

    /// <summary>Gets the site name.</summary>
    public string Name { get; }

    /// <summary>Gets the site kind (<c>functionapp</c>, <c>functionapp,linux</c>, <c>app</c>, <c>functionapp,workflowapp</c>…).</summary>
    public string Kind { get; }

    /// <summary>Gets the ARM resource id.</summary>
    public string ResourceId { get; }

    /// <summary>Gets the tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; }

    /// <summary>
    /// Gets the scm host name as the site's <c>hostNameSslStates[hostType=Repository]</c> reports it, port included
    /// (<c>{name}-{random}.scm.appservice.localhost:{port}</c>): clients must read it from there, not guess it.
    /// </summary>
    public string ScmHostName { get; }

    /// <summary>Gets the scm site's base URI.</summary>
    public Uri ScmUri => new("https://" + ScmHostName + "/");

    /// <summary>Gets the faults injected into the app's answers.</summary>
    public AppFaults Faults { get; } = new();

    /// <summary>Gets a copy of the app settings.</summary>
    public IReadOnlyDictionary<string, string> Settings
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<string, string>(_settings, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Gets a copy of the files of the last successful deployment, by path.</summary>
    public IReadOnlyDictionary<string, DeployedFile> DeployedFiles
    {
        get
        {
            lock (_lock)
            {
                return _files;
            }
        }
    }

    /// <summary>Gets the lowercase hex SHA-256 of the zip of the last successful deployment.</summary>
    public string? DeployedPackageSha256
    {
        get
        {
            lock (_lock)
            {
                return _deployedPackageSha256;
            }
        }
    }

    /// <summary>Gets the deployments received, oldest first.</summary>
    public IReadOnlyList<DeploymentRecord> Deployments
    {
        get
        {
            lock (_lock)
            {
                return [.. _deployments];
            }
        }
    }

    /// <summary>Gets a value indicating whether a deployment is running.</summary>
    public bool IsDeploying
    {
        get
        {
            lock (_lock)
            {
                return _running is not null;
            }
        }
    }

    /// <summary>Gets the number of deployments that ended with Success.</summary>
    public int DeploymentCount => Volatile.Read(ref _deploymentCount);

    /// <summary>Gets the number of zip deploys accepted (202).</summary>
    public int ZipDeployCount => Volatile.Read(ref _zipDeployCount);

    /// <summary>Gets the number of app settings PUTs.</summary>
    public int SettingsWriteCount => Volatile.Read(ref _settingsWriteCount);

    /// <summary>Gets the number of trigger syncs.</summary>
    public int SyncTriggersCount => Volatile.Read(ref _syncTriggersCount);

    /// <summary>Gets the number of deployments failed because the settings changed (and the app restarted) while they ran.</summary>
    public int InterruptedDeployments => Volatile.Read(ref _interruptedDeployments);

    /// <summary>Gets a value indicating whether the app was deleted.</summary>
    public bool IsDeleted => Volatile.Read(ref _deleted) != 0;

    /// <summary>Replaces every setting, as another writer would (no HTTP; the running deployment is not affected).</summary>
    /// <param name="settings">The settings.</param>
    public void ReplaceSettings(IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        lock (_lock)
        {
            _settings = new Dictionary<string, string>(settings, StringComparer.Ordinal);
        }
    }

    internal bool MarkDeleted() => Interlocked.Exchange(ref _deleted, 1) == 0;

    /// <summary>The settings PUT: replaces all; a running deployment is interrupted (the app restarts), as in Azure.</summary>
    internal void PutSettings(Dictionary<string, string> settings)
    {
        lock (_lock)
        {
            _settings = settings;
            _settingsWriteCount++;
            if (_running is not null)
            {
                _runningInterrupted = true;
            }
        }
    }

    internal void CountSyncTriggers() => Interlocked.Increment(ref _syncTriggersCount);

    /// <summary>Starts a deployment unless one runs; <see langword="null"/> when one runs (409).</summary>
    internal DeploymentRecord? TryStartDeployment(string packageSha256, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_running is not null)
            {
                return null;
            }

            _running = new DeploymentRecord(Guid.NewGuid().ToString("N"), 0, "Receiving changes.", false, now, null, packageSha256);
            _runningInterrupted = false;
            _deployments.Add(_running);
            _zipDeployCount++;
            return _running;
        }
    }

    internal void AdvanceDeployment(int status, string text)
    {
        lock (_lock)
        {
            if (_running is not null)
            {
                Replace(_running, _running with { Status = status, StatusText = text });
            }
        }
    }

    /// <summary>Ends the running deployment; <paramref name="files"/> replace the content when it succeeds.</summary>
    internal void EndDeployment(int status, string text, Dictionary<string, DeployedFile>? files, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_running is null)
            {
                return;
            }

            if (_runningInterrupted)
            {
                status = 3;
                text = "Deployment failed: the app settings changed while it ran and the site restarted.";
                _interruptedDeployments++;
            }

            var ended = _running with { Status = status, StatusText = text, Complete = true, EndTime = now };
            Replace(_running, ended);
            if (status == 4 && files is not null)
            {
                _files = files;
                _deployedPackageSha256 = ended.PackageSha256;
                _deploymentCount++;
            }

            _running = null;
        }
    }

    /// <summary>The running deployment, or the last one; <see langword="null"/> when none was received.</summary>
    internal DeploymentRecord? Latest()
    {
        lock (_lock)
        {
            return _running ?? (_deployments.Count > 0 ? _deployments[^1] : null);
        }
    }

    /// <summary>The deployment with that id; <see langword="null"/> when none has it.</summary>
    internal DeploymentRecord? Find(string id)
    {
        lock (_lock)
        {
            return _deployments.Find(d => string.Equals(d.Id, id, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>The deployment before the newest one; <see langword="null"/> when fewer than two were received.</summary>
    internal DeploymentRecord? Previous()
    {
        lock (_lock)
        {
            return _deployments.Count > 1 ? _deployments[^2] : null;
        }
    }

    private void Replace(DeploymentRecord old, DeploymentRecord updated)
    {
        var index = _deployments.LastIndexOf(old);
        _deployments[index] = updated;
        if (ReferenceEquals(_running, old))
        {
            _running = updated;
        }
    }
}
