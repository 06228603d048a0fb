using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Backtesting.Compiler;

/// <summary>
/// The second check: reads the emitted assembly's metadata and verifies that every type and member it references
/// is on the allow-list, or is one of the few helpers the C# compiler itself emits calls to (iterators, lock,
/// records, collection expressions, array initializers). It catches whatever the syntax walk might miss, since
/// the runtime can only reach what the metadata references.
/// </summary>
internal static class AssemblyAudit
{
    // Compiler-emitted references; null = any member (attributes and marker types), else only these members.
    private static readonly Dictionary<string, string[]?> CompilerSupport = new(StringComparer.Ordinal)
    {
        ["System.Attribute"] = null,
        ["System.AttributeUsageAttribute"] = null,
        ["System.AttributeTargets"] = null,
        ["System.ParamArrayAttribute"] = null,
        ["System.FlagsAttribute"] = null,
        ["System.ObsoleteAttribute"] = null,
        ["System.Reflection.DefaultMemberAttribute"] = null,
        ["System.Diagnostics.DebuggableAttribute"] = null,
        ["System.Diagnostics.DebuggerHiddenAttribute"] = null,
        ["System.Diagnostics.DebuggerBrowsableAttribute"] = null,
        ["System.Diagnostics.DebuggerBrowsableState"] = null,
        ["System.Diagnostics.DebuggerStepThroughAttribute"] = null,
        ["System.Diagnostics.DebuggerNonUserCodeAttribute"] = null,
        ["System.Diagnostics.DebuggerDisplayAttribute"] = null,
        ["System.Diagnostics.CodeAnalysis.SetsRequiredMembersAttribute"] = null,
        ["System.Diagnostics.CodeAnalysis.UnscopedRefAttribute"] = null,
        ["System.Runtime.CompilerServices.CompilerGeneratedAttribute"] = null,
        ["System.Runtime.CompilerServices.CompilationRelaxationsAttribute"] = null,
        ["System.Runtime.CompilerServices.RuntimeCompatibilityAttribute"] = null,
        ["System.Runtime.CompilerServices.NullableAttribute"] = null,
        ["System.Runtime.CompilerServices.NullableContextAttribute"] = null,
        ["System.Runtime.CompilerServices.NullablePublicOnlyAttribute"] = null,
        ["System.Runtime.CompilerServices.IteratorStateMachineAttribute"] = null,
        ["System.Runtime.CompilerServices.IsReadOnlyAttribute"] = null,
        ["System.Runtime.CompilerServices.IsByRefLikeAttribute"] = null,
        ["System.Runtime.CompilerServices.IsUnmanagedAttribute"] = null,
        ["System.Runtime.CompilerServices.RefSafetyRulesAttribute"] = null,
        ["System.Runtime.CompilerServices.ScopedRefAttribute"] = null,
        ["System.Runtime.CompilerServices.RequiresLocationAttribute"] = null,
        ["System.Runtime.CompilerServices.ExtensionAttribute"] = null,
        ["System.Runtime.CompilerServices.TupleElementNamesAttribute"] = null,
        ["System.Runtime.CompilerServices.RequiredMemberAttribute"] = null,
        ["System.Runtime.CompilerServices.CompilerFeatureRequiredAttribute"] = null,
        ["System.Runtime.CompilerServices.ParamCollectionAttribute"] = null,
        ["System.Runtime.CompilerServices.InlineArrayAttribute"] = null,
        ["System.Runtime.CompilerServices.IsExternalInit"] = null,
        ["System.Runtime.CompilerServices.IsVolatile"] = null,
        ["System.Runtime.CompilerServices.SwitchExpressionException"] = null,
        ["System.Runtime.CompilerServices.DefaultInterpolatedStringHandler"] = null,
        ["System.Runtime.InteropServices.InAttribute"] = null,
        ["System.Runtime.CompilerServices.RuntimeHelpers"] = ["InitializeArray", "CreateSpan", "GetSubArray", "EnsureSufficientExecutionStack"],
        ["System.Runtime.CompilerServices.Unsafe"] = ["As", "Add", "AsRef"],
        ["System.Runtime.InteropServices.CollectionsMarshal"] = ["SetCount", "AsSpan"],
        ["System.Runtime.InteropServices.MemoryMarshal"] = ["CreateSpan", "CreateReadOnlySpan", "GetReference"],
        ["System.Environment"] = ["get_CurrentManagedThreadId"], // iterators
        ["System.Threading.Monitor"] = ["Enter", "Exit"], // lock
        ["System.Threading.Interlocked"] = ["CompareExchange"], // events
        ["System.Delegate"] = ["Combine", "Remove"], // events
        ["System.Type"] = ["GetTypeFromHandle", "op_Equality", "op_Inequality"], // records' EqualityContract
        ["System.RuntimeTypeHandle"] = null,
        ["System.RuntimeFieldHandle"] = null, // array initializers
    };

    public static List<string> FindViolations(byte[] image)
    {
        var violations = new List<string>();
        using var pe = new PEReader(ImmutableArray.Create(image));
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.TypeReferences)
        {
            var (ns, name) = Outermost(metadata, handle);
            var full = ns.Length == 0 ? name : ns + "." + name;
            if (!SandboxPolicy.IsAllowedType(ns, name) && !CompilerSupport.ContainsKey(full))
            {
                violations.Add(full);
            }
        }

        foreach (var handle in metadata.MemberReferences)
        {
            var member = metadata.GetMemberReference(handle);
            if (member.Parent.Kind != HandleKind.TypeReference)
            {
                continue; // members of generic instantiations: their generic type is a type reference checked above
            }

            var (ns, name) = Outermost(metadata, (TypeReferenceHandle)member.Parent);
            var full = ns.Length == 0 ? name : ns + "." + name;
            var memberName = metadata.GetString(member.Name);
            var property = memberName.StartsWith("get_", StringComparison.Ordinal) ? memberName[4..] : memberName;
            if (SandboxPolicy.DeniedMembers.ContainsKey(full + "." + property)
                || (!SandboxPolicy.IsAllowedType(ns, name) && CompilerSupport.TryGetValue(full, out var members)
                    && members is not null && !members.Contains(memberName)))
            {
                violations.Add(full + "." + memberName);
            }
        }

        return violations.Distinct().ToList();
    }

    private static (string Namespace, string Name) Outermost(MetadataReader metadata, TypeReferenceHandle handle)
    {
        var reference = metadata.GetTypeReference(handle);
        while (reference.ResolutionScope.Kind == HandleKind.TypeReference)
        {
            reference = metadata.GetTypeReference((TypeReferenceHandle)reference.ResolutionScope);
        }

        return (metadata.GetString(reference.Namespace), metadata.GetString(reference.Name));
    }
}
