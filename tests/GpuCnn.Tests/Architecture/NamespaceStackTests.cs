using System.Reflection;
using System.Reflection.Emit;
using System.Text.RegularExpressions;

namespace GpuCnn.Tests.Architecture;

/// <summary>
/// The namespaces form a one-way stack: a lower one never names a higher one. Checked twice: in
/// the compiled code (every type a type's signatures and method bodies name, so a reference by a
/// qualified name or to the root namespace's Model counts) and in the sources' using lines (so a
/// forbidden using is caught even before anything uses it).
/// </summary>
public sealed class NamespaceStackTests
{
    /// <summary>
    /// Lowest first. GpuCnn itself is the library's front door (Model), above everything it wires.
    /// The packages beside the core sit just above the interface each implements: Pictures above
    /// Data (IPictureDecoder), Mpi above Distributed (ICommunicator), Plots above Reporting (IPlotWriter).
    /// </summary>
    public static readonly string[] Stack =
    [
        "GpuCnn.Kernels", "GpuCnn.Randomness", "GpuCnn.IO", "GpuCnn.Devices", "GpuCnn.Tensors", "GpuCnn.Layers", "GpuCnn.Models",
        "GpuCnn.Data", "GpuCnn.Pictures", "GpuCnn.Distributed", "GpuCnn.Mpi", "GpuCnn.Training", "GpuCnn.Persistence",
        "GpuCnn.Reporting", "GpuCnn.Plots", "GpuCnn.Export", "GpuCnn", "GpuCnn.Runs", "GpuCnn.Cli",
    ];

    /// <summary>A namespace's place in the stack (a sub-namespace takes its parent's); -1 outside GpuCnn.</summary>
    public static int Rank(string? ns)
    {
        if (ns is null || !(ns == "GpuCnn" || ns.StartsWith("GpuCnn.", StringComparison.Ordinal))) return -1;
        for (int i = Stack.Length - 1; i >= 0; i--)
            if (Stack[i] != "GpuCnn" && (ns == Stack[i] || ns.StartsWith(Stack[i] + ".", StringComparison.Ordinal))) return i;
        if (ns == "GpuCnn") return Array.IndexOf(Stack, "GpuCnn");
        throw new InvalidOperationException($"namespace {ns} has no place in the stack; add it to NamespaceStackTests.Stack");
    }

    /// <summary>Why <paramref name="from"/> may not name <paramref name="to"/>, or null when it may (its own namespace or a lower one).</summary>
    public static string? Violation(string from, string to) =>
        Rank(to) < 0 || Rank(from) < 0 || Rank(to) < Rank(from) || to == from || Rank(to) == Rank(from) ? null : $"{from} names {to}, which is above it";

    [Fact]
    public void TheCheckRefusesAnUpwardReferenceAndAllowsADownwardOne()
    {
        Assert.NotNull(Violation("GpuCnn.Training", "GpuCnn.Runs"));
        Assert.NotNull(Violation("GpuCnn.Layers", "GpuCnn"));
        Assert.NotNull(Violation("GpuCnn.Persistence", "GpuCnn.Reporting"));
        Assert.Null(Violation("GpuCnn.Runs", "GpuCnn.Training"));
        Assert.Null(Violation("GpuCnn.Export.Onnx", "GpuCnn.Export"));
        Assert.Empty(UsingViolations("src/GpuCnn/Training/X.cs", "using GpuCnn.Models;\nnamespace GpuCnn.Training;\n"));
        Assert.Single(UsingViolations("src/GpuCnn/Training/X.cs", "using GpuCnn.Runs;\nnamespace GpuCnn.Training;\n"));
    }

    [Fact]
    public void CompiledCodeNamesOnlyItsOwnOrLowerNamespaces()
    {
        Assembly[] assemblies =
        [
            typeof(Model).Assembly, typeof(GpuCnn.Kernels.CounterRng).Assembly, typeof(GpuCnn.Cli.CliErrors).Assembly,
            typeof(GpuCnn.Plots.ScottPlotWriter).Assembly, typeof(GpuCnn.Pictures.SkiaPictureDecoder).Assembly, typeof(GpuCnn.Mpi.MpiSession).Assembly,
        ];
        var problems = new SortedSet<string>();
        foreach (var type in assemblies.SelectMany(a => a.GetTypes()))
        {
            string? from = Namespace(type);
            if (Rank(from) < 0) continue;
            foreach (var named in Named(type).Select(Namespace).Where(n => n is not null).Distinct())
                if (Violation(from!, named!) is { } problem) problems.Add($"{type.FullName}: {problem}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void SourcesUseOnlyTheirOwnOrLowerNamespaces()
    {
        string root = RepositoryRoot();
        var problems = new List<string>();
        foreach (var folder in new[] { "src", "kernels" })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
                if (!file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
                    problems.AddRange(UsingViolations(Path.GetRelativePath(root, file), File.ReadAllText(file)));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>The using lines of one source file that name a namespace above the file's own.</summary>
    static IEnumerable<string> UsingViolations(string file, string source)
    {
        // Program.cs of the command line has top-level statements and no namespace line.
        string ns = Regex.Match(source, @"^namespace\s+([\w.]+)", RegexOptions.Multiline) is { Success: true } m ? m.Groups[1].Value : "GpuCnn.Cli";
        foreach (Match u in Regex.Matches(source, @"^using\s+(?:static\s+)?([\w.]+)\s*;", RegexOptions.Multiline))
            if (Violation(ns, u.Groups[1].Value) is { } problem) yield return $"{file}: {problem}";
    }

    static string? Namespace(Type type)
    {
        while (type.IsNested) type = type.DeclaringType!;
        // The command line's top-level statements compile to a Program class without a namespace.
        return type.Namespace ?? (type.Name.StartsWith('<') ? null : type.Assembly.GetName().Name == "GpuCnn.Cli" ? "GpuCnn.Cli" : "GpuCnn");
    }

    const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Every type a type names: base, interfaces, fields, signatures, attributes' types, and the members its IL calls, loads or creates.</summary>
    static IEnumerable<Type> Named(Type type)
    {
        var found = new List<Type>();
        void Add(Type? t)
        {
            if (t is null) return;
            if (t.HasElementType) { Add(t.GetElementType()); return; }
            found.Add(t);
            if (t.IsGenericType && !t.IsGenericTypeDefinition) foreach (var a in t.GetGenericArguments()) Add(a);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(Everything)) Add(f.FieldType);
        foreach (var p in type.GetProperties(Everything)) Add(p.PropertyType);
        foreach (var method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (method is MethodInfo info) Add(info.ReturnType);
            foreach (var p in method.GetParameters()) Add(p.ParameterType);
            foreach (var member in BodyReferences(method))
                Add(member as Type ?? member.DeclaringType);
        }
        return found;
    }

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The fields, methods and types a method's IL names (its token operands).</summary>
    static IEnumerable<MemberInfo> BodyReferences(MethodBase method)
    {
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException) { il = null; }
        if (il is null) yield break;
        Type[]? typeArguments = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok:
                    MemberInfo? member = null;
                    try { member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArguments, methodArguments); }
                    catch (Exception e) when (e is ArgumentException or BadImageFormatException) { }
                    if (member is not null) yield return member;
                    i += 4;
                    break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                default: i += 4; break;
            }
        }
    }

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GpuCnn.sln"))) return dir.FullName;
        throw new InvalidOperationException("GpuCnn.sln not found above the test folder");
    }
}
