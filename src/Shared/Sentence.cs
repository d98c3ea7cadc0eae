namespace IoMT.Deployment;

/// <summary>
/// Ends a message that embeds text from elsewhere (an inner exception's message, a server's status text) with one
/// period: <c>$"…: {inner}."</c> reads "failed: Deployment failed.." when the inner text already ends with one.
/// </summary>
/// <remarks>Compiled into each package that needs it (linked source), so it adds no public API.</remarks>
internal static class Sentence
{
    /// <summary>Returns <paramref name="text"/> ending with a period, unless it already ends with <c>.</c>, <c>!</c>, <c>?</c> or <c>…</c>.</summary>
    /// <param name="text">The message.</param>
    /// <returns>The message, closed.</returns>
    public static string End(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.TrimEnd();
        return trimmed.Length == 0 || trimmed[^1] is '.' or '!' or '?' or '…' ? trimmed : trimmed + ".";
    }
}
