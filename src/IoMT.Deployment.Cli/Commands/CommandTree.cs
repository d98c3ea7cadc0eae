using System.CommandLine;

namespace IoMT.Deployment.Cli.Commands;

/// <summary>The command tree of <c>iomt-deploy</c>.</summary>
internal static class CommandTree
{
    private const string Description = """
        iomt-deploy: deliver IoMT Connector builds and roll them out to every connector, with verification, invalidation and rollback.

        Exit codes: 0 success (update: also while a progressive rollout runs, bakes, awaits approval or is paused); 1 the operation ran but some connectors failed or differ (update: the rollout halted or was rolled back); 2 bad input (unknown command or flag, missing argument, unparseable build, invalid zip, invalid settings); 3 conflict (build delivered with other bytes, state changed concurrently, another rollout running, build invalidated, no active rollout for a rollout command); 4 not found (build, connector, artifact store, local root); 5 unexpected error; 6 a store is unreachable (artifact container, version store, rollout lock or connector inventory did not answer within Azure:StoreTimeout; nothing was changed); 7 access denied (a store refused the identity: check the role assignments); 130 cancelled.

        Settings: flags, then environment variables IOMT_DEPLOY__{KEY} (sections joined by __, e.g. IOMT_DEPLOY__LOCAL__MAXENTRIES), then the --config JSON file. Keys: Provider, Root, MaxParallel, Actor, Rollout:*, Local:*; with --provider azure: Azure:Blobs:ServiceUri (or Azure:Blobs:ConnectionString), Azure:Blobs:*, Azure:Cosmos:AccountEndpoint, Azure:Cosmos:DatabaseName, Azure:Cosmos:*, Azure:Deployer (kudu|runfrompackage), Azure:Inventory (cosmos|arm), Azure:Arm:*, Azure:StoreTimeout (hh:mm:ss, 00:00:30).
        """;

    /// <summary>Builds the tree.</summary>
    /// <param name="console">The console the commands write to.</param>
    /// <returns>The root command.</returns>
    public static RootCommand Create(CliConsole console)
    {
        var globals = new GlobalOptions();
        var runner = new CommandRunner(console, globals);
        var root = new RootCommand(Description);
        globals.AddTo(root);
        root.Subcommands.Add(PackageCommands.Package(runner));
        root.Subcommands.Add(PackageCommands.Deliver(runner));
        root.Subcommands.Add(FleetCommands.Status(runner));
        root.Subcommands.Add(FleetCommands.Update(runner, console));
        root.Subcommands.Add(FleetCommands.Rollback(runner, console));
        root.Subcommands.Add(BuildCommands.Invalidate(runner));
        root.Subcommands.Add(BuildCommands.Reinstate(runner));
        root.Subcommands.Add(FleetCommands.Verify(runner));
        root.Subcommands.Add(ConnectorCommands.Connectors(runner));
        root.Subcommands.Add(RolloutCommands.Rollout(runner));
        return root;
    }
}
