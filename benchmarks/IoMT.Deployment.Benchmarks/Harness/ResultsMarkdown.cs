using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace IoMT.Deployment.Benchmarks.Harness;

/// <summary>Writes the latest figures as markdown: the targets table, each target's figures, and the micro-benchmark tables.</summary>
internal static class ResultsMarkdown
{
    /// <summary>The line after which the file's hand-written analysis starts; the harness keeps it when it rewrites the figures.</summary>
    public const string NotesMarker = "<!-- Analysis: everything below this line is written by hand and kept when the harness rewrites the figures above. -->";

    public static void Write(string path, bool quick, IReadOnlyList<TargetResult> targets, IReadOnlyList<string> microReports)
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmark results");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Latest {(quick ? "quick (reduced sizes; not the targets' sizes)" : "full")} run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, "
            + $"{Environment.ProcessorCount} cores ({RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, shared with other builds), "
            + $"{RuntimeInformation.FrameworkDescription}, Release. Regenerate with `benchmarks/run.sh`.");
        md.AppendLine();
        if (targets.Count > 0)
        {
            md.AppendLine("## Targets (issue 7)");
            md.AppendLine();
            md.AppendLine("| target | measured | limit | result | notes |");
            md.AppendLine("|---|---|---|---|---|");
            foreach (var t in targets)
            {
                var result = t.Status switch { TargetStatus.Pass => "PASS", TargetStatus.Fail => "**FAIL**", _ => "SKIPPED" };
                md.AppendLine(CultureInfo.InvariantCulture, $"| {t.Number}. {t.Name} | {Cell(t.Measured)} | {Cell(t.Limit)} | {result} | {Cell(t.Notes)} |");
            }

            md.AppendLine();
            md.AppendLine("### Figures behind each target");
            md.AppendLine();
            foreach (var t in targets.Where(t => t.Details.Count > 0))
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"Target {t.Number}, {t.Name}:");
                md.AppendLine();
                foreach (var detail in t.Details)
                {
                    md.AppendLine(CultureInfo.InvariantCulture, $"- {detail}");
                }

                md.AppendLine();
            }
        }

        if (microReports.Count > 0)
        {
            md.AppendLine("## Micro-benchmarks (BenchmarkDotNet, in-process, short job)");
            md.AppendLine();
            foreach (var report in microReports)
            {
                md.AppendLine(report.Trim());
                md.AppendLine();
            }
        }

        if (File.Exists(path) && File.ReadAllText(path) is var existing && existing.IndexOf(NotesMarker, StringComparison.Ordinal) is var at and >= 0)
        {
            md.Append(existing.AsSpan(at));
        }
        else
        {
            md.AppendLine(NotesMarker);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, md.ToString());
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
