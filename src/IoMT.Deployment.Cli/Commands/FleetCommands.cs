using System.CommandLine;
using System.Globalization;
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

    /// <summary>Creates <c>update [--dry-run | --wait [--poll-interval S]] [--max-parallel N]</c>.</summary>
    public static Command Update(CommandRunner runner, CliConsole console)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (target, waves with their connectors, thresholds, bake times and approvals, pinned and excluded connectors, estimated duration, plan fingerprint) and change nothing." };
        var wait = new Option<bool>("--wait") { Description = "Keep ticking, through bake times, until the rollout is Completed, Halted, RolledBack, Paused or AwaitingApproval, printing wave progress. Ctrl+C stops waiting; the rollout goes on at the next tick." };
        var pollInterval = new Option<int>("--poll-interval")
        {
            Description = "With --wait: seconds between ticks while a wave is running and no bake end is scheduled, 0-3600.",
            HelpName = "seconds",
            DefaultValueFactory = _ => 1,
        };
        pollInterval.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && int.TryParse(result.Tokens[0].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is < 0 or > 3600)
            {
                result.AddError($"--poll-interval must be between 0 and 3600 seconds; {n} is not.");
            }
        });
        var maxParallel = GlobalOptions.CreateMaxParallel();
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("update", "Runs one tick: starts rolling the newest valid build out when it is newer than the current one (wave by wave when waves are configured), takes the active rollout's next step, or brings stragglers to the current build. Exit 0 while a rollout runs, bakes, awaits approval or is paused and once it completed; 1 when it halted or was rolled back, or (without waves) a connector failed or does not report the target.")
        {
            dryRun,
            wait,
            pollInterval,
            maxParallel,
            format,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(dryRun) && result.GetValue(wait))
            {
                result.AddError("--dry-run and --wait cannot be combined: a dry run changes nothing, so there is nothing to wait for.");
            }
        });
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, MaxParallelFlag(maxParallel), async (parse, session, cancellationToken) =>
        {
            if (parse.GetValue(dryRun))
            {
                var plan = await session.Engine.PlanUpdateAsync(cancellationToken).ConfigureAwait(false);
                var state = await session.ReadStateAsync(cancellationToken).ConfigureAwait(false);
                session.Emit(PlanResult.Of(plan, state), TextOutput.Write);
                return ExitCodes.Success;
            }

            if (parse.GetValue(wait))
            {
                return await WaitAsync(session, console, TimeSpan.FromSeconds(parse.GetValue(pollInterval)), cancellationToken).ConfigureAwait(false);
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
            var request = new RollbackRequest(parse.GetRequiredValue(reason), await session.ResolveActorAsync(cancellationToken).ConfigureAwait(false), parse.GetValue(to));
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
            var state = await session.ReadStateAsync(cancellationToken).ConfigureAwait(false);
            session.Emit(VerifyResult.Of(fleet, state), TextOutput.Write);
            return fleet.AllVerified ? ExitCodes.Success : ExitCodes.Incomplete;
        });
        return command;
    }

    /// <summary>Reads <c>--max-parallel</c> as the <c>MaxParallel</c> setting.</summary>
    public static Func<ParseResult, IEnumerable<KeyValuePair<string, string?>>> MaxParallelFlag(Option<int?> maxParallel) =>
        parse => [new("MaxParallel", CommandRunner.Format(parse.GetValue(maxParallel)))];

    private static Func<ParseResult, IEnumerable<KeyValuePair<string, string?>>> ActorAndMaxParallelFlags(Option<string?> actor, Option<int?> maxParallel) =>
        parse => [new("MaxParallel", CommandRunner.Format(parse.GetValue(maxParallel))), new("Actor", parse.GetValue(actor))];

    // Runs a rollout with a progress display in text mode, then prints its report (see ExitCodes.For(RolloutReport)).
    private static async Task<int> RollOutAsync(CommandSession session, CliConsole console, Func<IProgress<ConnectorResult>?, Task<RolloutReport>> rollout, CancellationToken cancellationToken)
    {
        var report = await TickAsync(session, console, rollout, cancellationToken).ConfigureAwait(false);
        session.Emit(RolloutResult.Of(report), TextOutput.Write);
        return ExitCodes.For(report);
    }

    private static async Task<RolloutReport> TickAsync(CommandSession session, CliConsole console, Func<IProgress<ConnectorResult>?, Task<RolloutReport>> rollout, CancellationToken cancellationToken)
    {
        var progress = await CreateProgressAsync(session, console, cancellationToken).ConfigureAwait(false);
        try
        {
            return await rollout(progress).ConfigureAwait(false);
        }
        finally
        {
            progress?.Complete();
        }
    }

    // update --wait: one tick after another, each one what a plain update does, until the rollout needs a person (paused,
    // awaiting approval) or is over; between ticks it waits for the bake's end, or the poll interval while a wave runs.
    // The rollout's state is persisted by every tick, so stopping the wait (Ctrl+C) loses nothing.
    private static async Task<int> WaitAsync(CommandSession session, CliConsole console, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        var time = session.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        RolloutReport? report = null;
        try
        {
            while (true)
            {
                report = await TickAsync(session, console, progress => session.Engine.UpdateAsync(progress, cancellationToken), cancellationToken).ConfigureAwait(false);
                if (report.Rollout is not { } rollout)
                {
                    break;
                }

                if (session.Format == OutputFormat.Text)
                {
                    TextOutput.WriteProgress(console.Out, time.GetUtcNow(), RolloutStateResult.Of(rollout, report.NextTickAt)!);
                    console.Out.Flush();
                }

                if (rollout.Status is not (RolloutStatus.Running or RolloutStatus.Baking))
                {
                    break;
                }

                var delay = report.NextTickAt is { } next ? next - time.GetUtcNow() : pollInterval;
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && report is not null)
        {
            // Stopped waiting between ticks: say where the rollout stands; it goes on at the next tick.
            session.Emit(RolloutResult.Of(report), TextOutput.Write);
            console.Error.WriteLine("iomt-deploy: stopped waiting (cancelled); the rollout's state is saved and the next update (or the worker) goes on from it.");
            console.Error.Flush();
            return ExitCodes.Cancelled;
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
