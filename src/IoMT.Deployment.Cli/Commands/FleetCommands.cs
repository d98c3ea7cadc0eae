using System.CommandLine;
using IoMT.Deployment.Cli.Composition;
using IoMT.Deployment.Cli.Output;
using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment.Cli.Commands;

/// <summary><c>status</c>, <c>update</c>, <c>rollback</c> and <c>verify</c>: the fleet's view and its rollouts.</summary>
internal static class FleetCommands
{
    /// <summary>Creates <c>status [--output json]</c>.</summary>
    public static Command Status(CommandRunner runner)
    {
        var maxParallel = GlobalOptions.CreateMaxParallel();
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("status", "Shows the current build, the build in flight, the invalidated builds with their reasons, the delivered builds, the fleet by PROJECT_VERSION (stragglers named) and the recent rollouts. Changes nothing.")
        {
            maxParallel,
            format,
        };
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, MaxParallelFlag(maxParallel), async (parse, session, cancellationToken) =>
        {
            var status = await session.Engine.GetStatusAsync(includeFleet: true, cancellationToken).ConfigureAwait(false);
            session.Emit(StatusResult.Of(status, session.Settings.Provider, session.Location), TextOutput.Write);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Creates <c>update [--dry-run] [--max-parallel N]</c>.</summary>
    public static Command Update(CommandRunner runner, CliConsole console)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (target, connectors to update, connectors skipped and why) and change nothing." };
        var maxParallel = GlobalOptions.CreateMaxParallel();
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("update", "Runs one update: rolls the newest valid build out when it is newer than the current one, otherwise brings stragglers to the current build. Exit 1 when a connector failed or does not report the target afterwards.")
        {
            dryRun,
            maxParallel,
            format,
        };
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, MaxParallelFlag(maxParallel), async (parse, session, cancellationToken) =>
        {
            if (parse.GetValue(dryRun))
            {
                var plan = await session.Engine.PlanUpdateAsync(cancellationToken).ConfigureAwait(false);
                session.Emit(PlanResult.Of(plan), TextOutput.Write);
                return ExitCodes.Success;
            }

            return await RollOutAsync(session, console, progress => session.Engine.UpdateAsync(progress, cancellationToken), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Creates <c>rollback [--to &lt;build&gt;] --reason &lt;text&gt;</c>.</summary>
    public static Command Rollback(CommandRunner runner, CliConsole console)
    {
        var to = new Option<BuildNumber?>("--to")
        {
            Description = "The build to roll back to; every build between it and the bad one is invalidated too. Default: the newest valid build older than the bad one.",
            HelpName = "build",
            CustomParser = r => GlobalOptions.ParseBuild(r, "--to"),
        };
        var reason = GlobalOptions.CreateReason("Why the current (or in-flight) build is bad; recorded with its invalidation.");
        var actor = GlobalOptions.CreateActor();
        var maxParallel = GlobalOptions.CreateMaxParallel();
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("rollback", "Invalidates the build that is current or in flight and rolls every connector back to an older valid build. Exit 1 when a connector failed or does not report it afterwards.")
        {
            to,
            reason,
            actor,
            maxParallel,
            format,
        };
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, ActorAndMaxParallelFlags(actor, maxParallel), async (parse, session, cancellationToken) =>
        {
            var request = new RollbackRequest(parse.GetRequiredValue(reason), session.Settings.Actor, parse.GetValue(to));
            try
            {
                return await RollOutAsync(session, console, progress => session.Engine.RollbackAsync(request, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException ex) when (request.To is not null && ex.ParamName == "request")
            {
                // The engine refuses a --to build that is not older than the bad one; its message names both builds.
                var message = ex.Message;
                var suffix = message.LastIndexOf(" (Parameter", StringComparison.Ordinal);
                throw new CliException(ExitCodes.BadInput, suffix > 0 ? message[..suffix] : message, ex);
            }
        });
        return command;
    }

    /// <summary>Creates <c>verify [--output json]</c>.</summary>
    public static Command Verify(CommandRunner runner)
    {
        var maxParallel = GlobalOptions.CreateMaxParallel();
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("verify", "Reads every connector's PROJECT_VERSION and compares it with the current build. Exit 1 when any differs. Changes nothing.")
        {
            maxParallel,
            format,
        };
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, MaxParallelFlag(maxParallel), async (parse, session, cancellationToken) =>
        {
            var fleet = await session.Engine.VerifyAsync(cancellationToken).ConfigureAwait(false);
            session.Emit(VerifyResult.Of(fleet), TextOutput.Write);
            return fleet.AllVerified ? ExitCodes.Success : ExitCodes.Incomplete;
        });
        return command;
    }

    /// <summary>Reads <c>--max-parallel</c> as the <c>MaxParallel</c> setting.</summary>
    public static Func<ParseResult, IEnumerable<KeyValuePair<string, string?>>> MaxParallelFlag(Option<int?> maxParallel) =>
        parse => [new("MaxParallel", CommandRunner.Format(parse.GetValue(maxParallel)))];

    private static Func<ParseResult, IEnumerable<KeyValuePair<string, string?>>> ActorAndMaxParallelFlags(Option<string?> actor, Option<int?> maxParallel) =>
        parse => [new("MaxParallel", CommandRunner.Format(parse.GetValue(maxParallel))), new("Actor", parse.GetValue(actor))];

    // Runs a rollout with a progress display in text mode, then prints its report: exit 0 when it succeeded, 3 when it was
    // stopped because its build was invalidated underneath it, else 1.
    private static async Task<int> RollOutAsync(CommandSession session, CliConsole console, Func<IProgress<ConnectorResult>?, Task<RolloutReport>> rollout, CancellationToken cancellationToken)
    {
        var progress = await CreateProgressAsync(session, console, cancellationToken).ConfigureAwait(false);
        RolloutReport report;
        try
        {
            report = await rollout(progress).ConfigureAwait(false);
        }
        finally
        {
            progress?.Complete();
        }

        session.Emit(RolloutResult.Of(report), TextOutput.Write);
        return ExitCodes.For(report);
    }

    // Human output shows progress; the total is counted from the inventory first (it may change while the rollout runs).
    private static async Task<ProgressDisplay?> CreateProgressAsync(CommandSession session, CliConsole console, CancellationToken cancellationToken)
    {
        if (session.Format == OutputFormat.Json)
        {
            return null;
        }

        var total = 0;
        await foreach (var _ in session.Services.GetRequiredService<IConnectorInventory>().ListAsync(cancellationToken).ConfigureAwait(false))
        {
            total++;
        }

        return new ProgressDisplay(console.Out, terminal: !console.IsOutputRedirected, total, console.Width);
    }
}
