using MachTransport.Grpc.Protocol;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>The header encodings of PROTOCOL-HTTP2.md: grpc-message percent-encoding, grpc-timeout, metadata keys.</summary>
[Trait("Category", "Grpc")]
public sealed class WireFormatTests
{
    [Theory]
    [InlineData("plain ascii", "plain ascii")]
    [InlineData("100%", "100%25")]
    [InlineData("naïve\n", "na%C3%AFve%0A")]
    [InlineData("", "")]
    public void Grpc_message_is_percent_encoded_UTF8(string detail, string wire)
    {
        Assert.Equal(wire, PercentEncoding.Encode(detail));
        Assert.Equal(detail, PercentEncoding.Decode(wire));
    }

    [Fact]
    public void A_stray_percent_sign_decodes_as_itself() => Assert.Equal("50%x", PercentEncoding.Decode("50%x"));

    [Theory]
    [InlineData(1.5, "1500u")]
    [InlineData(100_000.0, "100000m")]
    [InlineData(0.0001, "1u")]
    public void Grpc_timeout_uses_at_most_eight_digits_rounding_up(double milliseconds, string wire) =>
        Assert.Equal(wire, GrpcTimeout.Format(TimeSpan.FromMilliseconds(milliseconds)));

    [Theory]
    [InlineData("1H", 3_600_000.0)]
    [InlineData("2M", 120_000.0)]
    [InlineData("3S", 3_000.0)]
    [InlineData("4m", 4.0)]
    [InlineData("5000u", 5.0)]
    [InlineData("6000000n", 6.0)]
    public void Grpc_timeout_parses_every_unit(string wire, double milliseconds)
    {
        Assert.True(GrpcTimeout.TryParse(wire, out TimeSpan timeout));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), timeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5x")]
    [InlineData("123456789S")]
    [InlineData("-5S")]
    public void A_malformed_grpc_timeout_is_rejected(string wire) => Assert.False(GrpcTimeout.TryParse(wire, out _));

    [Fact]
    public void Metadata_keys_are_lower_cased_and_binary_values_need_a_bin_key()
    {
        var metadata = new Metadata { { "X-Key", "v" }, { "data-bin", new byte[] { 1 } } };

        Assert.Equal("x-key", metadata[0].Key);
        Assert.True(metadata[1].IsBinary);
        Assert.Throws<ArgumentException>(() => metadata.Add("data", new byte[] { 1 }));
        Assert.Throws<ArgumentException>(() => metadata.Add("text-bin", "v"));
        Assert.Throws<ArgumentException>(() => metadata.Add("bad key", "v"));
        Assert.Throws<ArgumentException>(() => metadata.Add("key", "line\nbreak"));
    }
}
