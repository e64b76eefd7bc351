namespace MachTransport.Grpc;

/// <summary>Put by the generator on a service base class: names the static method that binds its methods.</summary>
/// <param name="bindType">The type declaring the bind method.</param>
/// <param name="bindMethodName">The name of the generic bind method, taking a <see cref="ServiceBinder{TService}"/>.</param>
[AttributeUsage(AttributeTargets.Class, Inherited = true, AllowMultiple = false)]
public sealed class BindServiceMethodAttribute(Type bindType, string bindMethodName) : Attribute
{
    /// <summary>The type declaring the bind method.</summary>
    public Type BindType { get; } = bindType;

    /// <summary>The name of the bind method.</summary>
    public string BindMethodName { get; } = bindMethodName;
}
