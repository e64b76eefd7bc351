namespace MachTransport.Grpc;

/// <summary>The base of generated clients.</summary>
public abstract class ClientBase
{
    /// <summary>A client calling through <paramref name="channel"/>.</summary>
    protected ClientBase(GrpcChannel channel)
        : this(channel?.CreateCallInvoker() ?? throw new ArgumentNullException(nameof(channel)))
    {
    }

    /// <summary>A client calling through <paramref name="callInvoker"/>.</summary>
    protected ClientBase(CallInvoker callInvoker)
    {
        ArgumentNullException.ThrowIfNull(callInvoker);
        CallInvoker = callInvoker;
    }

    /// <summary>The invoker calls go through.</summary>
    protected CallInvoker CallInvoker { get; }
}

/// <summary>The base of a generated client <typeparamref name="T"/>.</summary>
/// <typeparam name="T">The generated client type.</typeparam>
public abstract class ClientBase<T> : ClientBase
    where T : ClientBase<T>
{
    /// <summary>A client calling through <paramref name="channel"/>.</summary>
    protected ClientBase(GrpcChannel channel)
        : base(channel)
    {
    }

    /// <summary>A client calling through <paramref name="callInvoker"/>.</summary>
    protected ClientBase(CallInvoker callInvoker)
        : base(callInvoker)
    {
    }
}
