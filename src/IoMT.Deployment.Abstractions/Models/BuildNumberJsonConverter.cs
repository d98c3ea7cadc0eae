using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>Writes a <see cref="BuildNumber"/> as a JSON string and reads it back, rejecting invalid text.</summary>
public sealed class BuildNumberJsonConverter : JsonConverter<BuildNumber>
{
    /// <inheritdoc/>
    public override BuildNumber Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A build number must be a JSON string, not {reader.TokenType}.");
        }

        var text = reader.GetString();
        return BuildNumber.TryParse(text, out var build)
            ? build
            : throw new JsonException($"'{text}' is not a valid build number.");
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, BuildNumber value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value.IsDefault)
        {
            throw new JsonException("The default BuildNumber cannot be written.");
        }

        writer.WriteStringValue(value.ToString());
    }
}
