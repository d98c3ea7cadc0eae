namespace IoMT.Deployment;

/// <summary>Puts a package on one connector's Function app and reads and writes its <c>PROJECT_VERSION</c>.</summary>
public interface IConnectorDeployer
{
    /// <summary>Deploys the package and waits until the app reports the deployment finished successfully.</summary>
    /// <param name="connector">The connector.</param>
    /// <param name="package">The package, read once per rollout; open it with <see cref="ArtifactPackage.OpenRead"/>.</param>
    /// <param name="cancellationToken">Cancels the deployment.</param>
    /// <returns>A task that completes when the deployment succeeded.</returns>
    /// <exception cref="ConnectorNotFoundException">The connector's app is gone (deleted before or during the deployment).</exception>
    /// <exception cref="DeploymentFailedException">The deployment failed.</exception>
    Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default);

    /// <summary>Sets the app setting <c>PROJECT_VERSION</c> to the build number, keeping every other setting.</summary>
    /// <param name="connector">The connector.</param>
    /// <param name="build">The build now deployed.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the setting is written.</returns>
    /// <exception cref="ConnectorNotFoundException">The connector's app is gone.</exception>
    Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default);

    /// <summary>Reads the app setting <c>PROJECT_VERSION</c>.</summary>
    /// <param name="connector">The connector.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The raw value, or <see langword="null"/> when it is not set.</returns>
    /// <exception cref="ConnectorNotFoundException">The connector's app is gone.</exception>
    Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default);
}
