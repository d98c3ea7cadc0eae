using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IoMT.Deployment.Cli.Output;

/// <summary>How results are printed on stdout.</summary>
internal enum OutputFormat
{
    /// <summary>Text for people.</summary>
    Text,

    /// <summary>One JSON document, for automation.</summary>
    Json,
}

/// <summary>The JSON form of every result.</summary>
internal static class JsonOutput
{
    /// <summary>The serializer options: camelCase names, enum names as strings, indented, nulls kept so the shape is stable.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Writes a value as one JSON document followed by a newline.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="writer">Where to write.</param>
    /// <param name="value">The value.</param>
    public static void Write<T>(TextWriter writer, T value)
    {
        writer.WriteLine(JsonSerializer.Serialize(value, Options));
        writer.Flush();
    }
}
