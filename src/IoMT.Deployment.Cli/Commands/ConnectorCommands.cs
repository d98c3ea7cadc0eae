using System.CommandLine;
using IoMT.Deployment.Cli.Composition;
using IoMT.Deployment.Cli.Logging;
using IoMT.Deployment.Cli.Output;
using IoMT.Deployment.Local;
using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment.Cli.Commands;

/// <summary><c>connectors list|add|remove|pin|unpin</c>: the fleet's inventory and the connectors held out of rollouts.</summary>
internal static class ConnectorCommands
{
    /// <summary>Creates <c>connectors</c> and its subcommands.</summary>
    public static Command Connectors(CommandRunner runner)
    {
        var command = new Command("connectors", "Lists the connectors of the inventory; adds and removes connectors of the local provider's fleet; pins a connector to a build or excludes it from rollouts.");
        command.Subcommands.Add(List(runner));
        command.Subcommands.Add(Add(runner));
        command.Subcommands.Add(Remove(runner));
        command.Subcommands.Add(Pin(runner));
        command.Subcommands.Add(Unpin(runner));
        return command;
    }

    private static Command Pin(CommandRunner runner)
    {
        var id = new Argument<string>("id") { Description = "The connector to pin." };
        var build = new Option<BuildNumber?>("--build")
        {
            Description = "The build to hold the connector on: no update or rollback moves it. It must be delivered and valid.",
            HelpName = "build",
            CustomParser = r => GlobalOptions.ParseBuild(r, "--build"),
        };
        var exclude = new Option<bool>("--exclude") { Description = "Exclude the connector from rollouts instead: it stays on whatever it runs." };
        var reason = GlobalOptions.CreateReason("Why; recorded with the pin.");
        var actor = GlobalOptions.CreateActor();
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("pin", "Pins a connector to a build (--build) or excludes it from rollouts (--exclude), recorded with actor, reason and time; status and verify show it against its pin. Exit 4 when the connector is not in the inventory.")
        {
            id,
            build,
            exclude,
            reason,
            actor,
            format,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetResult(build) is not null) == result.GetValue(exclude))
            {
                result.AddError("Give exactly one of --build <build> and --exclude.");
            }
        });
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, BuildCommands.ActorFlag(actor), async (parse, session, cancellationToken) =>
        {
            var who = await session.ResolveActorAsync(cancellationToken).ConfigureAwait(false);
            var pin = await session.Engine.PinAsync(parse.GetRequiredValue(id), parse.GetValue(exclude) ? null : parse.GetValue(build), parse.GetRequiredValue(reason), who, cancellationToken).ConfigureAwait(false);
            session.Emit(new PinChangeResult(pin.Connector, Pinned: true, pin.Build?.ToString(), pin.Excluded, Changed: true, pin.Actor, pin.Reason), TextOutput.Write);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Unpin(CommandRunner runner)
    {
        var id = new Argument<string>("id") { Description = "The connector to unpin (or include again)." };
        var actor = GlobalOptions.CreateActor();
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("unpin", "Removes a connector's pin or exclusion; the next update brings it to the current build. A connector that was not pinned is left as it is (exit 0).")
        {
            id,
            actor,
            format,
        };
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, BuildCommands.ActorFlag(actor), async (parse, session, cancellationToken) =>
        {
            var connector = parse.GetRequiredValue(id);
            var who = await session.ResolveActorAsync(cancellationToken).ConfigureAwait(false);
            var changed = await session.Engine.UnpinAsync(connector, who, cancellationToken).ConfigureAwait(false);
            session.Emit(new PinChangeResult(connector, Pinned: false, Build: null, Excluded: false, changed, who, Reason: null), TextOutput.Write);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CommandRunner runner)
    {
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("list", "Lists the connectors of the inventory.") { format };
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, flags: null, async (parse, session, cancellationToken) =>
        {
            var connectors = new List<ConnectorListItem>();
            await foreach (var connector in session.Services.GetRequiredService<IConnectorInventory>().ListAsync(cancellationToken).ConfigureAwait(false))
            {
                connectors.Add(new ConnectorListItem(connector.Id, connector.Canary, connector.ResourceId));
            }

            session.Emit(new ConnectorListResult(connectors), TextOutput.Write);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Add(CommandRunner runner) => FleetChange(
        runner,
        "add",
        "Adds connectors to the local fleet: each gets an app folder with empty settings. Existing ones are left as they are.",
        "The connectors to add: letters, digits, '-', '_' and '.', at most 64 characters.",
        requireExistingRoot: false,
        ("Added", "Already in the fleet"),
        async (fleet, ids, session, cancellationToken) =>
        {
            foreach (var id in ids)
            {
                RequireSafeName(id);
            }

            var added = await fleet.AddAsync(ids, cancellationToken).ConfigureAwait(false);
            if (added.Count > 0)
            {
                Log.ConnectorsAdded(session.Logger, string.Join(", ", added));
            }

            return new ConnectorChangeResult(added, [.. ids.Except(added, StringComparer.Ordinal)]);
        });

    private static Command Remove(CommandRunner runner) => FleetChange(
        runner,
        "remove",
        "Removes connectors from the local fleet with their app folders, as a customer deleting a connector would. An unknown name exits 4 and removes nothing.",
        "The connectors to remove.",
        requireExistingRoot: true,
        ("Removed", "Not removed"),
        async (fleet, ids, session, cancellationToken) =>
        {
            await fleet.RemoveAsync(ids, cancellationToken).ConfigureAwait(false);
            Log.ConnectorsRemoved(session.Logger, string.Join(", ", ids));
            return new ConnectorChangeResult(ids, []);
        });

    /// <summary>The shape <c>connectors add</c> and <c>remove</c> share: names in, one change of the local fleet, what changed and what did not out.</summary>
    private static Command FleetChange(
        CommandRunner runner,
        string name,
        string description,
        string namesDescription,
        bool requireExistingRoot,
        (string Changed, string Unchanged) headings,
        Func<LocalFleet, List<string>, CommandSession, CancellationToken, Task<ConnectorChangeResult>> change)
    {
        var names = Names(namesDescription);
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command(name, description)
        {
            names,
            format,
        };
        runner.SetAction(command, format, CommandNeeds.LocalFleet, requireExistingRoot, flags: null, async (parse, session, cancellationToken) =>
        {
            var ids = parse.GetRequiredValue(names).Distinct(StringComparer.Ordinal).ToList();
            var result = await change(LocalFleetOf(session), ids, session, cancellationToken).ConfigureAwait(false);
            session.Emit(result, (w, r) => TextOutput.Write(w, r, headings.Changed, headings.Unchanged));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string[]> Names(string description) => new("name")
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
    };

    private static LocalFleet LocalFleetOf(CommandSession session) =>
        session.Services.GetService<LocalFleet>()
        ?? throw new CliException(ExitCodes.BadInput, "connectors add and remove manage the local provider's fleet; with --provider azure, connectors come from the Cosmos DB or ARM inventory.");

    private static void RequireSafeName(string id)
    {
        try
        {
            LocalLayout.RequireSafeName(id);
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.BadInput, $"'{id}' is not a valid local connector name: use letters, digits, '-', '_' and '.', at most 64 characters, not starting with '.'. Nothing was added.", ex);
        }
    }
}
