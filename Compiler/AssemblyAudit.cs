using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.PortableExecutable;

namespace Backtesting.Compiler;

/// <summary>
/// The second check, on the emitted assembly's metadata, independent of the syntax walk (<see cref="SandboxChecker"/>):
/// a gap in one is caught by the other. Every type and member the assembly references must be on the allow-list, or be
/// one of the few helpers the C# compiler itself emits calls to (iterators, lock, records, collection expressions,
/// array initializers); the memory-unsafe ones among those (<see cref="CompilerOnly"/>) only from the compiler's own
/// helper class. The assembly's own types may not live in a reserved namespace, choose their layout or field offsets,
/// import native code, implement methods in the runtime, carry attributes outside the lists, or have a module
/// initializer. The runtime can reach nothing the metadata does not name.
/// </summary>
internal static class AssemblyAudit
{
    /// <summary>The class the C# compiler puts its own helpers in; C# source cannot declare a name with angle brackets.</summary>
    private const string CompilerHelpers = "<PrivateImplementationDetails>";

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
        ["System.Runtime.CompilerServices.InlineArrayAttribute"] = null, // only on the compiler's own types, see below
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

    /// <summary>
    /// Compiler helpers that can break memory safety (reinterpret a reference, make a span of any length): the
    /// compiler calls them only from <see cref="CompilerHelpers"/> (inline arrays), so nothing else may.
    /// </summary>
    private static readonly HashSet<string> CompilerOnly = new(StringComparer.Ordinal)
    {
        "System.Runtime.CompilerServices.Unsafe", "System.Runtime.InteropServices.MemoryMarshal",
    };

    /// <summary>Attributes the compiler may put on the compiler's own types only (the inline arrays of collection expressions and params spans).</summary>
    private static readonly HashSet<string> CompilerTypesOnlyAttributes = new(StringComparer.Ordinal)
    {
        "System.Runtime.CompilerServices.InlineArrayAttribute",
    };

    /// <summary>Attribute classes the compiler defines in the strategy's own assembly when the framework does not offer them.</summary>
    private static readonly HashSet<string> EmbeddedAttributes = new(StringComparer.Ordinal)
    {
        "Microsoft.CodeAnalysis.EmbeddedAttribute",
        "System.Runtime.CompilerServices.NullableAttribute", "System.Runtime.CompilerServices.NullableContextAttribute",
        "System.Runtime.CompilerServices.NullablePublicOnlyAttribute", "System.Runtime.CompilerServices.RefSafetyRulesAttribute",
        "System.Runtime.CompilerServices.IsReadOnlyAttribute", "System.Runtime.CompilerServices.IsByRefLikeAttribute",
        "System.Runtime.CompilerServices.IsUnmanagedAttribute", "System.Runtime.CompilerServices.ScopedRefAttribute",
        "System.Runtime.CompilerServices.RequiresLocationAttribute", "System.Runtime.CompilerServices.ParamCollectionAttribute",
    };

    // Every IL opcode's operand kind, by its value (one- and two-byte opcodes).
    private static readonly Dictionary<ushort, OperandType> Operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .GroupBy(o => (ushort)o.Value)
        .ToDictionary(g => g.Key, g => g.First().OperandType);

    /// <summary>Every rule the image breaks, as sentences; empty when it passes.</summary>
    public static List<string> FindViolations(byte[] image)
    {
        var violations = new List<string>();
        using var pe = new PEReader(ImmutableArray.Create(image));
        var metadata = pe.GetMetadataReader();
        CheckReferences(pe, metadata, violations);
        CheckDefinitions(metadata, violations);
        CheckAttributes(metadata, violations);
        if (metadata.GetTableRowCount(TableIndex.ModuleRef) > 0 || metadata.GetTableRowCount(TableIndex.ImplMap) > 0)
        {
            violations.Add("it imports native code (module references or P/Invoke maps)");
        }

        if (metadata.GetTableRowCount(TableIndex.ExportedType) > 0 || metadata.GetTableRowCount(TableIndex.File) > 0
            || metadata.GetTableRowCount(TableIndex.ManifestResource) > 0)
        {
            violations.Add("it forwards types, names other files or carries resources");
        }

        return violations.Distinct().ToList();
    }

    private static void CheckReferences(PEReader pe, MetadataReader metadata, List<string> violations)
    {
        foreach (var handle in metadata.TypeReferences)
        {
            var (ns, name) = Outermost(metadata, handle);
            var full = Join(ns, name);
            if (!SandboxPolicy.IsAllowedType(ns, name) && !CompilerSupport.ContainsKey(full))
            {
                violations.Add($"it references '{full}', which is not on the allow-list of a custom strategy");
            }
        }

        var compilerOnly = new HashSet<EntityHandle>();
        foreach (var handle in metadata.MemberReferences)
        {
            var member = metadata.GetMemberReference(handle);
            var memberName = metadata.GetString(member.Name);
            var parent = ParentType(metadata, member.Parent);
            if (parent is null)
            {
                violations.Add($"it references member '{memberName}' of something other than a type (a module or a vararg method)");
                continue;
            }

            var (ns, name, generic) = parent.Value;
            var full = Join(ns, name);
            var property = memberName.StartsWith("get_", StringComparison.Ordinal) ? memberName[4..] : memberName;
            if (SandboxPolicy.DeniedMemberReason(full, property) is { } reason && !(generic && property == "GetHashCode"))
            {
                // A generic type's hash (EqualityComparer<T>, tuples) is what records' generated members call: the syntax
                // check refuses it in the strategy's own code; this check cannot tell the two apart.
                violations.Add($"it references '{full}.{memberName}': {reason}");
            }
            else if (!generic && !SandboxPolicy.IsAllowedType(ns, name) && CompilerSupport.TryGetValue(full, out var members)
                && members is not null && !members.Contains(memberName))
            {
                violations.Add($"it references '{full}.{memberName}', which is not on the allow-list of a custom strategy");
            }

            if (CompilerOnly.Contains(full))
            {
                compilerOnly.Add(handle);
            }
        }

        if (compilerOnly.Count > 0)
        {
            CheckCompilerOnlyUses(pe, metadata, compilerOnly, violations);
        }
    }

    /// <summary>Reads every method body's IL: the compiler-only helpers may be called from the compiler's helper class alone.</summary>
    private static void CheckCompilerOnlyUses(PEReader pe, MetadataReader metadata, HashSet<EntityHandle> compilerOnly, List<string> violations)
    {
        foreach (var typeHandle in metadata.TypeDefinitions)
        {
            var type = metadata.GetTypeDefinition(typeHandle);
            var outermost = type;
            while (outermost.IsNested)
            {
                outermost = metadata.GetTypeDefinition(outermost.GetDeclaringType());
            }

            if (outermost.Namespace.IsNil && metadata.GetString(outermost.Name) == CompilerHelpers)
            {
                continue;
            }

            foreach (var methodHandle in type.GetMethods())
            {
                var method = metadata.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0)
                {
                    continue;
                }

                foreach (var token in Tokens(pe, method))
                {
                    var target = token.Kind == HandleKind.MethodSpecification ? metadata.GetMethodSpecification((MethodSpecificationHandle)token).Method : token;
                    if (compilerOnly.Contains(target))
                    {
                        var reference = metadata.GetMemberReference((MemberReferenceHandle)target);
                        var (ns, name, _) = ParentType(metadata, reference.Parent)!.Value;
                        violations.Add($"{metadata.GetString(type.Name)}.{metadata.GetString(method.Name)} calls '{Join(ns, name)}.{metadata.GetString(reference.Name)}', " +
                            "which only the compiler's own helpers may call (it can reinterpret memory)");
                    }
                }
            }
        }
    }

    private static void CheckDefinitions(MetadataReader metadata, List<string> violations)
    {
        foreach (var typeHandle in metadata.TypeDefinitions)
        {
            var type = metadata.GetTypeDefinition(typeHandle);
            var name = metadata.GetString(type.Name);
            var ns = metadata.GetString(type.Namespace);
            var full = Join(ns, name);
            if (name == "<Module>" && ns.Length == 0 && !type.IsNested)
            {
                if (type.GetMethods().Count > 0 || type.GetFields().Count > 0)
                {
                    violations.Add("it has a module initializer or global members (the <Module> type has methods or fields)");
                }

                continue;
            }

            var compilerType = IsCompilerType(metadata, type);
            if (SandboxPolicy.IsReservedNamespace(ns) && !EmbeddedAttributes.Contains(full))
            {
                violations.Add($"it declares '{full}' in a reserved namespace ({string.Join(", ", SandboxPolicy.ReservedNamespaceRoots)}, in any case)");
            }

            // The compiler's array-data blobs (<PrivateImplementationDetails>.__StaticArrayInitTypeSize=n) are explicit and field-less.
            if ((type.Attributes & TypeAttributes.LayoutMask) == TypeAttributes.ExplicitLayout && !(compilerType && type.GetFields().Count == 0))
            {
                violations.Add($"type '{full}' has an explicit layout (fields at chosen offsets can overlap)");
            }

            var layout = type.GetLayout();
            if (!layout.IsDefault && !compilerType && !IsEmptyStructSize(metadata, type, layout))
            {
                violations.Add($"type '{full}' sets its packing or size ({layout.PackingSize}, {layout.Size})");
            }

            foreach (var fieldHandle in type.GetFields())
            {
                var field = metadata.GetFieldDefinition(fieldHandle);
                if (field.GetOffset() != -1)
                {
                    violations.Add($"field '{full}.{metadata.GetString(field.Name)}' has an explicit offset");
                }

                if (field.GetRelativeVirtualAddress() != 0 && !compilerType)
                {
                    violations.Add($"field '{full}.{metadata.GetString(field.Name)}' maps data from the image (an RVA)");
                }
            }

            var isDelegate = IsDelegate(metadata, type);
            foreach (var methodHandle in type.GetMethods())
            {
                var method = metadata.GetMethodDefinition(methodHandle);
                var methodName = $"{full}.{metadata.GetString(method.Name)}";
                var code = method.ImplAttributes & MethodImplAttributes.CodeTypeMask;
                if ((method.Attributes & MethodAttributes.PinvokeImpl) != 0 || !method.GetImport().Name.IsNil)
                {
                    violations.Add($"method '{methodName}' imports native code");
                }
                else if ((method.ImplAttributes & (MethodImplAttributes.InternalCall | MethodImplAttributes.Unmanaged | MethodImplAttributes.ForwardRef)) != 0
                    || code is MethodImplAttributes.Native or MethodImplAttributes.OPTIL
                    || (code == MethodImplAttributes.Runtime && !isDelegate))
                {
                    violations.Add($"method '{methodName}' is implemented outside its IL ({method.ImplAttributes})");
                }
                else if (method.RelativeVirtualAddress == 0 && (method.Attributes & MethodAttributes.Abstract) == 0 && code != MethodImplAttributes.Runtime)
                {
                    violations.Add($"method '{methodName}' has no body (extern)");
                }
            }
        }
    }

    private static void CheckAttributes(MetadataReader metadata, List<string> violations)
    {
        foreach (var handle in metadata.CustomAttributes)
        {
            var attribute = metadata.GetCustomAttribute(handle);
            string full;
            switch (attribute.Constructor.Kind)
            {
                case HandleKind.MemberReference:
                    var parent = ParentType(metadata, metadata.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent);
                    full = parent is { } p ? Join(p.Namespace, p.Name) : "?";
                    if (!SandboxPolicy.AllowedAttributes.Contains(full) && !(CompilerSupport.ContainsKey(full) && full.EndsWith("Attribute", StringComparison.Ordinal)))
                    {
                        violations.Add($"it applies attribute '{full}', which is not on the allow-list");
                    }
                    else if (CompilerTypesOnlyAttributes.Contains(full)
                        && !(attribute.Parent.Kind == HandleKind.TypeDefinition && IsCompilerType(metadata, metadata.GetTypeDefinition((TypeDefinitionHandle)attribute.Parent))))
                    {
                        violations.Add($"it applies attribute '{full}' to a type of its own (only the compiler's inline arrays may have it)");
                    }

                    break;
                case HandleKind.MethodDefinition:
                    var declaring = metadata.GetTypeDefinition(metadata.GetMethodDefinition((MethodDefinitionHandle)attribute.Constructor).GetDeclaringType());
                    full = Join(metadata.GetString(declaring.Namespace), metadata.GetString(declaring.Name));
                    if (!EmbeddedAttributes.Contains(full))
                    {
                        violations.Add($"it applies attribute '{full}', which it declares itself");
                    }

                    break;
            }
        }
    }

    /// <summary>A type C# source cannot declare: its name (or its outermost type's) has angle brackets, as the compiler's own types do.</summary>
    private static bool IsCompilerType(MetadataReader metadata, TypeDefinition type)
    {
        while (true)
        {
            if (metadata.GetString(type.Name).Contains('<', StringComparison.Ordinal))
            {
                return true;
            }

            if (!type.IsNested)
            {
                return false;
            }

            type = metadata.GetTypeDefinition(type.GetDeclaringType());
        }
    }

    /// <summary>The size 1 the compiler gives a struct without instance fields.</summary>
    private static bool IsEmptyStructSize(MetadataReader metadata, TypeDefinition type, TypeLayout layout) =>
        layout is { PackingSize: 0, Size: 1 }
        && type.GetFields().All(f => (metadata.GetFieldDefinition(f).Attributes & FieldAttributes.Static) != 0);

    private static bool IsDelegate(MetadataReader metadata, TypeDefinition type) =>
        type.BaseType.Kind == HandleKind.TypeReference
        && Join(Outermost(metadata, (TypeReferenceHandle)type.BaseType).Namespace, Outermost(metadata, (TypeReferenceHandle)type.BaseType).Name) == "System.MulticastDelegate";

    /// <summary>The type a member reference belongs to: a type reference, or the generic type of an instantiation.</summary>
    private static (string Namespace, string Name, bool Generic)? ParentType(MetadataReader metadata, EntityHandle parent)
    {
        switch (parent.Kind)
        {
            case HandleKind.TypeReference:
                var (ns, name) = Outermost(metadata, (TypeReferenceHandle)parent);
                return (ns, name, false);
            case HandleKind.TypeSpecification:
                var blob = metadata.GetBlobReader(metadata.GetTypeSpecification((TypeSpecificationHandle)parent).Signature);
                if (blob.ReadSignatureTypeCode() != SignatureTypeCode.GenericTypeInstance)
                {
                    return ("", "(array or pointer)", true);
                }

                blob.ReadCompressedInteger(); // class or value type
                var generic = blob.ReadTypeHandle();
                if (generic.Kind == HandleKind.TypeReference)
                {
                    var (gns, gname) = Outermost(metadata, (TypeReferenceHandle)generic);
                    return (gns, gname, true);
                }

                var definition = metadata.GetTypeDefinition((TypeDefinitionHandle)generic);
                return (metadata.GetString(definition.Namespace), metadata.GetString(definition.Name), true);
            case HandleKind.TypeDefinition:
                var own = metadata.GetTypeDefinition((TypeDefinitionHandle)parent);
                return (metadata.GetString(own.Namespace), metadata.GetString(own.Name), true);
            default:
                return null;
        }
    }

    /// <summary>The metadata tokens a method body's IL refers to (fields, methods, types).</summary>
    private static List<EntityHandle> Tokens(PEReader pe, MethodDefinition method)
    {
        var tokens = new List<EntityHandle>();
        var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader();
        while (il.RemainingBytes > 0)
        {
            ushort value = il.ReadByte();
            if (value == 0xFE)
            {
                value = (ushort)(0xFE00 | il.ReadByte());
            }

            switch (Operands[value])
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    tokens.Add(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                case OperandType.InlineSwitch:
                    il.Offset += 4 * il.ReadInt32();
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    il.Offset += 8;
                    break;
                default:
                    il.Offset += 4;
                    break;
            }
        }

        return tokens;
    }

    private static string Join(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;

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
