// Reading a channel's input in the protocol tests: consume an exact count (or return it), read to the end, or look at
// what is buffered without consuming it.
using System.Buffers;
using System.IO.Pipelines;
using Xunit;

namespace MachTransport.Tests.Protocol;

internal static class PipeReads
{
    public static async Task ConsumeAsync(PipeReader reader, long count)
    {
        while (count > 0)
        {
            ReadResult result = await reader.ReadAsync().AsTask().WaitAsync(ProtocolServer.Bound);
            long take = Math.Min(count, result.Buffer.Length);
            reader.AdvanceTo(result.Buffer.GetPosition(take));
            count -= take;
            Assert.False(result.IsCompleted && count > 0, "the input ended early");
        }
    }

    /// <summary>Consumes exactly <paramref name="count"/> bytes and returns them.</summary>
    public static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int count)
    {
        byte[] received = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            ReadResult result = await reader.ReadAsync().AsTask().WaitAsync(ProtocolServer.Bound);
            ReadOnlySequence<byte> taken = result.Buffer.Slice(0, Math.Min(count - filled, result.Buffer.Length));
            taken.CopyTo(received.AsSpan(filled));
            filled += (int)taken.Length;
            reader.AdvanceTo(taken.End);
            Assert.False(result.IsCompleted && filled < count, "the input ended early");
        }

        return received;
    }

    public static async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var received = new ArrayBufferWriter<byte>();
        while (true)
        {
            ReadResult result = await reader.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                received.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return received.WrittenSpan.ToArray();
            }
        }
    }

    /// <summary>What the reader has buffered now, without consuming any of it.</summary>
    public static long Buffered(PipeReader reader)
    {
        if (!reader.TryRead(out ReadResult result))
        {
            return 0;
        }

        long length = result.Buffer.Length;
        reader.AdvanceTo(result.Buffer.Start);
        return length;
    }
}
