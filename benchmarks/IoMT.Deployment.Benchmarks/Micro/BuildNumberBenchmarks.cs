using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace IoMT.Deployment.Benchmarks.Micro;

/// <summary>Parsing and ordering 1,000 build numbers: what listing a large artifact container costs.</summary>
[MemoryDiagnoser]
public class BuildNumberBenchmarks
{
    private string[] _texts = [];
    private string[] _fileNames = [];
    private BuildNumber[] _builds = [];
    private BuildNumber[] _scratch = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _texts = [.. Enumerable.Range(0, 1000).Select(i => (i % 3) switch
        {
            0 => string.Create(CultureInfo.InvariantCulture, $"2025{random.Next(1, 13):D2}{random.Next(10, 29)}.{random.Next(1, 200)}"),
            1 => string.Create(CultureInfo.InvariantCulture, $"{random.Next(1, 10)}.{random.Next(0, 30)}.{random.Next(0, 500)}"),
            _ => random.Next(1, 100_000).ToString(CultureInfo.InvariantCulture),
        })];
        _fileNames = [.. _texts.Select(t => t + ".zip")];
        _builds = [.. _texts.Select(BuildNumber.Parse)];
        _scratch = new BuildNumber[_builds.Length];
    }

    [Benchmark(Description = "Parse x1000")]
    public int Parse()
    {
        var total = 0;
        foreach (var text in _texts)
        {
            total += BuildNumber.Parse(text).Segments.Count;
        }

        return total;
    }

    [Benchmark(Description = "TryParsePackageFileName x1000")]
    public int TryParsePackageFileName()
    {
        var parsed = 0;
        foreach (var name in _fileNames)
        {
            if (BuildNumber.TryParsePackageFileName(name, out _))
            {
                parsed++;
            }
        }

        return parsed;
    }

    [Benchmark(Description = "Sort x1000")]
    public BuildNumber Sort()
    {
        _builds.CopyTo(_scratch, 0);
        Array.Sort(_scratch);
        return _scratch[^1];
    }

    [Benchmark(Description = "ToString+Equals x1000")]
    public int FormatAndCompare()
    {
        var equal = 0;
        var target = _builds[0];
        foreach (var build in _builds)
        {
            if (build.ToString().Length > 0 && build == target)
            {
                equal++;
            }
        }

        return equal;
    }
}
