using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>
/// A logging sink that is enabled from Information up and writes nothing: the engine pays for every log call it would
/// make in production (level checks, the generated state, the logger factory's fan-out) but no I/O is measured.
/// </summary>
internal sealed class NoOpSinkProvider : ILoggerProvider
{
    private long _messages;

    /// <summary>Gets how many messages reached the sink.</summary>
    public long Messages => Interlocked.Read(ref _messages);

    public ILogger CreateLogger(string categoryName) => new Sink(this);

    public void Dispose()
    {
    }

    private sealed class Sink(NoOpSinkProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Interlocked.Increment(ref provider._messages);
            }
        }
    }
}
