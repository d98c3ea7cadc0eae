namespace IoMT.Deployment.Loopback;

/// <summary>A token bucket refilled continuously.</summary>
internal sealed class TokenBucket(ThrottleSettings settings, TimeProvider time)
{
    private readonly Lock _lock = new();
    private double _tokens = settings.Burst;
    private long _last = time.GetTimestamp();

    public ThrottleSettings Settings => settings;

    public bool TryTake()
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            _tokens = Math.Min(settings.Burst, _tokens + (time.GetElapsedTime(_last, now).TotalSeconds * settings.RefillPerSecond));
            _last = now;
            if (_tokens < 1)
            {
                return false;
            }

            _tokens -= 1;
            return true;
        }
    }
}
