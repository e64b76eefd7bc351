using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using MachTransport.Grpc.Tests.Infrastructure;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>Grpc.AspNetCore.HealthChecks and Grpc.AspNetCore.Server.Reflection answer over Mach.</summary>
[Trait("Category", "Grpc")]
[Trait("Category", "CrossProcess")]
public sealed class HealthAndReflectionTests(TesterServerFixture server) : IClassFixture<TesterServerFixture>
{
    [Fact]
    public async Task TheHealthServiceReportsServing()
    {
        using GrpcChannel channel = server.CreateMachChannel();

        HealthCheckResponse response = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task ReflectionListsTheServicesAndDescribesOne()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new ServerReflection.ServerReflectionClient(channel);

        using AsyncDuplexStreamingCall<ServerReflectionRequest, ServerReflectionResponse> call = client.ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(30));
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = string.Empty });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        string[] services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToArray();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "machtransport.tests.Tester" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        int descriptors = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto.Count;
        await call.RequestStream.CompleteAsync();

        Assert.Contains("machtransport.tests.Tester", services);
        Assert.Contains("machtransport.tests.Identity", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.True(descriptors > 0, "The reflection service returned no file descriptor for the Tester service.");
    }
}
