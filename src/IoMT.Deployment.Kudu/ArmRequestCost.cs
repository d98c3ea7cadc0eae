namespace IoMT.Deployment.Kudu;

/// <summary>The ARM requests one connector of a rollout costs, as the per-subscription buckets count them (GET and HEAD read, every other method writes).</summary>
/// <param name="Writes">The write requests (PUT, POST, PATCH, DELETE; the app settings <c>list</c> call is a POST).</param>
/// <param name="Reads">The read requests (GET, HEAD).</param>
public readonly record struct ArmRequestCost(int Writes, int Reads)
{
    /// <summary>
    /// Gets what <see cref="KuduConnectorDeployer"/> costs per connector: 4 writes and 1 read. The engine reads
    /// <c>PROJECT_VERSION</c> before (settings list, a write), the deployer reads the site for its scm host (GET, a read;
    /// the zip and the status polls go to the scm host, not ARM), <c>PROJECT_VERSION</c> is written (settings list and
    /// PUT, two writes), and verification reads it again (settings list, a write).
    /// </summary>
    public static ArmRequestCost Kudu { get; } = new(Writes: 4, Reads: 1);

    /// <summary>
    /// Gets what <see cref="RunFromPackageConnectorDeployer"/> costs per connector: 6 writes. The engine's read before
    /// (settings list), the package setting (settings list and PUT), <c>syncfunctiontriggers</c> (POST), the
    /// <c>PROJECT_VERSION</c> write that finds it already set (settings list only) and verification (settings list).
    /// </summary>
    public static ArmRequestCost RunFromPackage { get; } = new(Writes: 6, Reads: 0);
}
