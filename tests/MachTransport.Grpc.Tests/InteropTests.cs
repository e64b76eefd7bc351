using System.Globalization;
using Google.Protobuf;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>
/// Wire compatibility with an independent implementation, @grpc/grpc-js, in both directions over TCP h2c on
/// loopback (grpc-js cannot speak Mach; the HTTP/2 bytes are the same on either transport).
/// </summary>
[Trait("Category", "Grpc")]
[Trait("Category", "Interop")]
public sealed class InteropTests(TesterServerFixture server) : IClassFixture<TesterServerFixture>
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_grpc_js_client_passes_every_check_against_our_server()
    {
        string interop = InteropDirectory.Get();

        await using ChildProcess node = ChildProcess.Start("node", interop, "client.js", $"127.0.0.1:{server.TcpPort}");
        (string output, string error) = await node.WaitForExitAsync(ProcessTimeout);

        string[] expected = ["unary_with_metadata", "server_streaming", "error_status_with_trailers", "deadline_exceeded", "client_streaming", "duplex_streaming", "unimplemented_method"];
        Assert.True(node.ExitCode == 0, $"grpc-js client failed (exit {node.ExitCode}):\n{output}\n{error}");
        foreach (string check in expected)
        {
            Assert.Contains($"PASS {check}", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Our_client_calls_a_grpc_js_server()
    {
        string interop = InteropDirectory.Get();
        await using ChildProcess node = ChildProcess.Start("node", interop, "server.js");
        string ready = await node.ReadLineAsync(ProcessTimeout);
        Assert.StartsWith("READY ", ready, StringComparison.Ordinal);
        int port = int.Parse(ready["READY ".Length..], CultureInfo.InvariantCulture);

        using GrpcChannel channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var client = new Tester.TesterClient(channel);
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);

        // Unary, with ASCII and binary metadata both ways and the deadline as grpc-timeout.
        using AsyncUnaryCall<EchoReply> unary = client.EchoAsync(
            new EchoRequest { Message = "hello", Payload = ByteString.CopyFromUtf8("payload") },
            new Metadata { { "x-echo", "from dotnet" }, { "x-echo-bin", new byte[] { 0, 1, 254, 255 } } },
            deadline);
        EchoReply reply = await unary;
        Assert.Equal("hello", reply.Message);
        Assert.Equal("payload", reply.Payload.ToStringUtf8());
        Assert.InRange(reply.DeadlineMs, 1, 30_000);
        Assert.Equal("from dotnet", (await unary.ResponseHeadersAsync).GetValue("x-echo"));
        Assert.Equal("from dotnet", unary.GetTrailers().GetValue("x-echo-trailer"));
        Assert.Equal(new byte[] { 0, 1, 254, 255 }, unary.GetTrailers().GetValueBytes("x-echo-bin"));

        // Server streaming.
        using AsyncServerStreamingCall<EchoReply> streaming = client.Countdown(new EchoRequest { Message = "n", Count = 5 }, deadline: deadline);
        var messages = new List<string>();
        await foreach (EchoReply message in streaming.ResponseStream.ReadAllAsync())
        {
            messages.Add(message.Message);
        }

        Assert.Equal(["n 1", "n 2", "n 3", "n 4", "n 5"], messages);
        Assert.Equal(StatusCode.OK, streaming.GetStatus().StatusCode);

        // An error status, percent-encoded detail and trailers.
        const string Detail = "not here: 100% naïve";
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { StatusCode = (int)StatusCode.NotFound, StatusDetail = Detail }, deadline: deadline));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal(Detail, error.Status.Detail);
        Assert.Equal("details", error.Trailers.GetValue("x-error"));
        Assert.Equal(new byte[] { 1, 2, 3 }, error.Trailers.GetValueBytes("x-error-bin"));

        // A method grpc-js does not serve.
        RpcException unimplemented = await Assert.ThrowsAsync<RpcException>(async () => await client.SumAsyncUnserved(deadline));
        Assert.Equal(StatusCode.Unimplemented, unimplemented.StatusCode);

        // A deadline that passes while grpc-js waits.
        RpcException late = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { DelayMs = 10_000 }, deadline: DateTime.UtcNow.AddMilliseconds(300)));
        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);

        await node.WriteLineAsync("stop");
        (_, string stderr) = await node.WaitForExitAsync(ProcessTimeout);
        Assert.True(node.ExitCode == 0, $"grpc-js server exited with {node.ExitCode}: {stderr}");
    }
}

/// <summary>Sum is not implemented by tests/interop/server.js.</summary>
internal static class UnservedCalls
{
    public static async Task<Number> SumAsyncUnserved(this Tester.TesterClient client, DateTime deadline)
    {
        using AsyncClientStreamingCall<Number, Number> call = client.Sum(deadline: deadline);
        await call.RequestStream.CompleteAsync();
        return await call;
    }
}
