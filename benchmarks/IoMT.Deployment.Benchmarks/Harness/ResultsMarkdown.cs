using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace IoMT.Deployment.Benchmarks.Harness;

/// <summary>Writes the latest figures as markdown: the targets table, each target's figures, and the micro-benchmark tables.</summary>
internal static class ResultsMarkdown
{
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

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, md.ToString());
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
