using System.CommandLine;
using IoMT.Deployment.Cli.Composition;
using IoMT.Deployment.Cli.Logging;
using IoMT.Deployment.Cli.Output;
using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment.Cli.Commands;

/// <summary><c>package</c> and <c>deliver</c>: the pipeline's delivery step.</summary>
internal static class PackageCommands
{
    /// <summary>Creates <c>package &lt;folder&gt; --output &lt;file.zip&gt;</c>.</summary>
    public static Command Package(CommandRunner runner)
    {
        var folder = new Argument<string>("folder") { Description = "The build output folder to package." };
        var output = new Option<string>("--output", "-o")
        {
            Description = "The zip file to write (replaced if it exists).",
            HelpName = "file.zip",
            Required = true,
        };
        var format = GlobalOptions.CreateFormat("--format");
        var command = new Command("package", "Packages a folder into a deterministic zip (sorted entries, fixed timestamps: same content, same bytes) and prints its SHA-256.")
        {
            folder,
            output,
            format,
        };
        runner.SetAction(command, format, needs: null, requireExistingRoot: false, flags: null, async (parse, session, cancellationToken) =>
        {
            var source = parse.GetRequiredValue(folder);
            var target = Path.GetFullPath(parse.GetRequiredValue(output));
            var (bytes, files) = await PackageFolderAsync(source, session, cancellationToken).ConfigureAwait(false);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var temp = target + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
            try
            {
                await File.WriteAllBytesAsync(temp, bytes, cancellationToken).ConfigureAwait(false);
                File.Move(temp, target, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }

            session.Emit(new PackageResult(target, files, bytes.LongLength, ContentHash.Sha256Hex(bytes)), TextOutput.Write);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Creates <c>deliver &lt;zip-or-folder&gt; --build &lt;number&gt; [--if-changed]</c>.</summary>
    public static Command Deliver(CommandRunner runner)
    {
        var package = new Argument<string>("zip-or-folder") { Description = "The package: a zip file, or a build output folder (packaged deterministically first)." };
        var build = new Option<BuildNumber>("--build")
        {
            Description = "The CI build number, stored as {build}.zip: dot-separated non-negative integers without leading zeros (1, 10, 20201105.3).",
            HelpName = "number",
            Required = true,
            CustomParser = r => GlobalOptions.ParseBuild(r, "--build"),
        };
        var ifChanged = new Option<bool>("--if-changed") { Description = "Skip the delivery (exit 0, \"unchanged\") when the content equals the newest delivered build." };
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("deliver", "Stores a package as {build}.zip in the artifact store. A delivered build is immutable: the same bytes again is a no-op, other bytes exit 3 and write nothing.")
        {
            package,
            build,
            ifChanged,
            format,
        };
        runner.SetAction(command, format, CommandNeeds.Publisher, requireExistingRoot: false, flags: null, async (parse, session, cancellationToken) =>
        {
            var path = parse.GetRequiredValue(package);
            var number = parse.GetRequiredValue(build);
            byte[] bytes;
            if (Directory.Exists(path))
            {
                (bytes, _) = await PackageFolderAsync(path, session, cancellationToken).ConfigureAwait(false);
            }
            else if (File.Exists(path))
            {
                bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                throw new CliException(ExitCodes.BadInput, $"The package '{path}' does not exist: give a zip file or a build output folder.");
            }

            var delivery = session.Services.GetRequiredService<DeliveryService>();
            var result = await delivery.DeliverAsync(number, bytes, parse.GetValue(ifChanged), cancellationToken).ConfigureAwait(false);
            session.Emit(
                new DeliverResult(result.Build.ToString(), result.Outcome, result.Sha256, result.Size, result.NewestBuild?.ToString(), result.Outcome == DeliveryOutcome.Delivered),
                TextOutput.Write);
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<(byte[] Bytes, int Files)> PackageFolderAsync(string folder, CommandSession session, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(folder))
        {
            throw new CliException(ExitCodes.BadInput, $"The folder to package, '{folder}', does not exist.");
        }

        using var buffer = new MemoryStream();
        int files;
        try
        {
            files = await DeterministicPackager.PackageAsync(folder, buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            // The packager refuses an empty folder; its message carries the parameter name, ours names the folder only.
            throw new CliException(ExitCodes.BadInput, $"The folder to package, '{folder}', holds no file.", ex);
        }

        var bytes = buffer.ToArray();
        Log.FolderPackaged(session.Logger, Path.GetFullPath(folder), files, bytes.LongLength, ContentHash.Sha256Hex(bytes));
        return (bytes, files);
    }
}
