using System.Text.Json;

namespace IoMT.Deployment.Tests;

public class BuildNumberTests
{
    [Theory]
    [InlineData("1", "2")]
    [InlineData("2", "10")]
    [InlineData("9", "10")]
    [InlineData("20201105.9", "20201105.10")]
    [InlineData("20201105.3", "20201106.1")]
    [InlineData("1.2", "1.2.0")]
    [InlineData("1.9.9", "2")]
    public void Orders_segment_by_segment_as_numbers(string lower, string higher)
    {
        var a = BuildNumber.Parse(lower);
        var b = BuildNumber.Parse(higher);
        Assert.True(a < b);
        Assert.True(b > a);
        Assert.True(a.CompareTo(b) < 0);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Sorting_puts_ten_after_nine_and_two()
    {
        var sorted = new[] { "10", "1", "20201105.10", "2", "20201105.9", "9" }.Select(BuildNumber.Parse).Order().Select(b => b.ToString());
        Assert.Equal(["1", "2", "9", "10", "20201105.9", "20201105.10"], sorted);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("01", "leading zero")]
    [InlineData("1..2", "empty segment")]
    [InlineData("1.", "empty segment")]
    [InlineData(".1", "empty segment")]
    [InlineData("1a", "not a digit")]
    [InlineData("-1", "not a digit")]
    [InlineData("1.2 ", "not a digit")]
    [InlineData("99999999999999999999999", "too large")]
    public void Parse_rejects_invalid_text_with_a_message_naming_the_problem(string text, string problem)
    {
        var ex = Assert.Throws<FormatException>(() => BuildNumber.Parse(text));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.False(BuildNumber.TryParse(text, out _));
    }

    [Theory]
    [InlineData("1.zip", "1")]
    [InlineData("20201105.3.zip", "20201105.3")]
    [InlineData("7.ZIP", "7")]
    public void Package_file_names_parse(string name, string build)
    {
        Assert.True(BuildNumber.TryParsePackageFileName(name, out var parsed));
        Assert.Equal(build, parsed.ToString());
        Assert.Equal(build + ".zip", parsed.PackageFileName);
    }

    [Theory]
    [InlineData("readme.txt")]
    [InlineData("latest.zip")]
    [InlineData("1.zip.bak")]
    [InlineData(".zip")]
    [InlineData("01.zip")]
    public void Junk_names_are_not_packages(string name) => Assert.False(BuildNumber.TryParsePackageFileName(name, out _));

    [Fact]
    public void Equal_builds_hash_alike_and_round_trip_through_json()
    {
        var a = BuildNumber.Parse("20201105.3");
        var json = JsonSerializer.Serialize(new { Build = a, Missing = (BuildNumber?)null });
        Assert.Equal("{\"Build\":\"20201105.3\",\"Missing\":null}", json);
        var back = JsonSerializer.Deserialize<BuildNumber>("\"20201105.3\"");
        Assert.Equal(a, back);
        Assert.Equal(a.GetHashCode(), back.GetHashCode());
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<BuildNumber>("\"banana\""));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<BuildNumber>("3"));
    }

    [Fact]
    public void Default_value_is_detectable_and_orders_first()
    {
        BuildNumber none = default;
        Assert.True(none.IsDefault);
        Assert.True(none < BuildNumber.Parse("0"));
        Assert.Equal(string.Empty, none.ToString());
    }
}
