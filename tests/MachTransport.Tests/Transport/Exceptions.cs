namespace MachTransport.Tests.Transport;

internal static class Exceptions
{
    /// <summary>The first exception of type <typeparamref name="T"/> in the inner-exception chain, or null.</summary>
    public static T? Find<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T match)
            {
                return match;
            }
        }

        return null;
    }
}
