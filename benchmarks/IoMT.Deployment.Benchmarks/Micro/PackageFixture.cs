using System.Text;

namespace IoMT.Deployment.Benchmarks.Micro;

/// <summary>A build output folder like a Function app's: some incompressible binaries, some text, in subfolders.</summary>
internal static class PackageFixture
{
    public static string CreateBuildOutput(string folder, int binaries = 60, int texts = 40)
    {
        var random = new Random(7);
        Directory.CreateDirectory(folder);
        for (var i = 0; i < binaries; i++)
        {
            var bytes = new byte[16 * 1024];
            random.NextBytes(bytes);
            var path = Path.Combine(folder, i % 4 == 0 ? "bin" : string.Empty, $"Library{i:D3}.dll");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }

        for (var i = 0; i < texts; i++)
        {
            var text = new StringBuilder();
            while (text.Length < 8 * 1024)
            {
                text.Append("{\"name\":\"function").Append(i).Append("\",\"binding\":").Append(random.Next(1000)).AppendLine("}");
            }

            var path = Path.Combine(folder, $"Function{i:D3}", "function.json");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text.ToString());
        }

        return folder;
    }

    public static string TempFolder(string name) =>
        Path.Combine(Path.GetTempPath(), "iomt-bench-" + name + "-" + Environment.ProcessId);
}
