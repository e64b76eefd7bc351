// Build-time stub generator of MachTransport.Grpc: "<descriptor-set.pb> <output.cs>". Reads the FileDescriptorSet
// protoc wrote with --include_imports (the requested .proto is its last file) and writes the XxxBase / XxxClient
// classes of that file's services. Run by build/MachTransport.Grpc.targets; nobody writes stubs by hand.
using Google.Protobuf;
using Google.Protobuf.Reflection;
using MachTransport.Grpc.Generator;

if (args is not [string descriptorSetPath, string outputPath])
{
    Console.Error.WriteLine("usage: MachTransport.Grpc.Generator <descriptor-set.pb> <output.cs>");
    return 2;
}

FileDescriptorSet set;
using (FileStream input = File.OpenRead(descriptorSetPath))
{
    set = FileDescriptorSet.Parser.ParseFrom(input);
}

if (set.File.Count == 0)
{
    Console.Error.WriteLine($"{descriptorSetPath}: the descriptor set holds no file.");
    return 1;
}

var names = new CSharpNames(set);
string code = new StubWriter(names).Write(set.File[^1]);
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);

// Rewrite only on change, so incremental builds keep the compiler's inputs stable.
if (!File.Exists(outputPath) || File.ReadAllText(outputPath) != code)
{
    File.WriteAllText(outputPath, code);
}

return 0;
