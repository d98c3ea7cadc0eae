using System.Collections.Concurrent;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace IoMT.Deployment.Tests;

/// <summary>A fleet of fake function apps: the inventory and the deployer at once, with per-app behaviour.</summary>
internal sealed class FakeFleet : IConnectorInventory, IConnectorDeployer
{
    private readonly ConcurrentDictionary<string, FakeApp> _apps = new();
    private readonly List<string> _order = [];

    public sealed class FakeApp
    {
        public required string Id { get; init; }

        public ConcurrentDictionary<string, string> Settings { get; } = new();

        public string? DeployedSha { get; set; }

        public int Deployments;

        /// <summary>Fails the next N deployments.</summary>
        public int FailNextDeployments { get; set; }

        /// <summary>What the failed deployments are attributed to.</summary>
        public DeploymentFailureKind FailureKind { get; set; }

        /// <summary>Deletes the app when its deployment starts.</summary>
        public bool DeleteDuringDeploy { get; set; }

        /// <summary>Throws a generic error (not not-found) after deleting itself.</summary>
        public bool DeleteWithGenericError { get; set; }

        public bool Deleted { get; set; }

        public bool Canary { get; set; }

        /// <summary>Runs when a deployment to the app starts, before it is recorded as done.</summary>
        public Func<Task>? BeforeDeploy { get; set; }
    }

    public List<string> Calls { get; } = [];

    public FakeFleet Add(params string[] ids)
    {
        foreach (var id in ids)
        {
            _apps[id] = new FakeApp { Id = id };
            lock (_order)
            {
                _order.Add(id);
            }
        }

        return this;
    }

    public FakeApp this[string id] => _apps[id];

    public async IAsyncEnumerable<ConnectorTarget> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string[] ids;
        lock (_order)
        {
            ids = [.. _order];
        }

        foreach (var id in ids)
        {
            await Task.Yield();
            if (!_apps[id].Deleted)
            {
                yield return new ConnectorTarget(id) { Canary = _apps[id].Canary };
            }
        }
    }

    public Task<bool> ExistsAsync(string connectorId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_apps.TryGetValue(connectorId, out var app) && !app.Deleted);

    public async Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default)
    {
        var app = Require(connector);
        Record($"deploy {connector.Id} {package.Build}");
        if (app.BeforeDeploy is { } hook)
        {
            await hook();
        }

        if (app.DeleteDuringDeploy || app.DeleteWithGenericError)
        {
            app.Deleted = true;
            if (app.DeleteWithGenericError)
            {
                throw new HttpRequestException("connection reset");
            }

            throw new ConnectorNotFoundException(connector.Id);
        }

        if (app.FailNextDeployments > 0)
        {
            app.FailNextDeployments--;
            throw new DeploymentFailedException(connector.Id, $"Deployment to {connector.Id} reported status Failed.", kind: app.FailureKind);
        }

        Interlocked.Increment(ref app.Deployments);
        app.DeployedSha = package.Sha256;
    }

    public Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default)
    {
        var app = Require(connector);
        Record($"set {connector.Id} {build}");
        app.Settings[ProjectVersionSetting.Name] = build.ToString();
        return Task.CompletedTask;
    }

    /// <summary>Every PROJECT_VERSION read, by connector id.</summary>
    public ConcurrentQueue<string> Reads { get; } = new();

    public Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default)
    {
        Reads.Enqueue(connector.Id);
        var app = Require(connector);
        return Task.FromResult(app.Settings.TryGetValue(ProjectVersionSetting.Name, out var v) ? v : null);
    }

    private FakeApp Require(ConnectorTarget connector) =>
        _apps.TryGetValue(connector.Id, out var app) && !app.Deleted ? app : throw new ConnectorNotFoundException(connector.Id);

    private void Record(string call)
    {
        lock (Calls)
        {
            Calls.Add(call);
        }
    }
}

/// <summary>A health signal with a verdict per connector (healthy unless told otherwise), recording every query.</summary>
internal sealed class FakeHealthSignal : IConnectorHealthSignal
{
    private readonly ConcurrentDictionary<string, ConnectorHealth> _verdicts = new(StringComparer.Ordinal);

    public ConcurrentQueue<HealthQuery> Queries { get; } = new();

    public ConnectorHealth Default { get; set; } = ConnectorHealth.Healthy;

    public string Name => "fake";

    public void Set(string connectorId, ConnectorHealth health) => _verdicts[connectorId] = health;

    public ValueTask<ConnectorHealth> GetHealthAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        Queries.Enqueue(query);
        return ValueTask.FromResult(_verdicts.TryGetValue(query.Connector.Id, out var health) ? health : Default);
    }
}
