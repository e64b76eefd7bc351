using Xunit;

namespace MachTransport.Tests.Abi;

/// <summary>Checks an enum against a table copied from docs/mach-abi.md: same member names, same values.</summary>
internal static class DocTable
{
    public static void AssertEnumMatches<TEnum>(TheoryData<string, long> table) where TEnum : struct, Enum
    {
        var expected = table.Select(row => (Name: (string)row[0], Value: (long)row[1])).OrderBy(r => r.Name, StringComparer.Ordinal).ToArray();
        var actual = Enum.GetNames<TEnum>()
            .Select(name => (Name: name, Value: Convert.ToInt64(Enum.Parse<TEnum>(name), System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(r => r.Name, StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(expected, actual);
    }
}
