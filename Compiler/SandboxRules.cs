using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Backtesting.Compiler;

/// <summary>The ids of the sandbox's own diagnostics (the C# compiler's start with CS).</summary>
public static class SandboxRules
{
    /// <summary>The source is larger than <see cref="StrategyCompiler.MaxSourceBytes"/>.</summary>
    public const string SourceTooLarge = "BT0001";
    /// <summary>The source nests deeper than <see cref="StrategyCompiler.MaxNesting"/> (the compiler would run out of stack).</summary>
    public const string TooDeep = "BT0002";
    /// <summary>A type or member that is not on the allow-list (<see cref="SandboxPolicy"/>).</summary>
    public const string ForbiddenApi = "BT0100";
    /// <summary>Unsafe code: pointers, fixed, stackalloc, the unsafe modifier.</summary>
    public const string UnsafeCode = "BT0101";
    /// <summary>A construct a strategy may not use: extern (P/Invoke), dynamic, finalizers, assembly attributes, ...</summary>
    public const string ForbiddenConstruct = "BT0102";
    /// <summary>A type or namespace declared under System, Microsoft or Backtesting, however the name is written.</summary>
    public const string ReservedNamespace = "BT0103";
    /// <summary>An attribute outside the short allow-list, or one aimed at the assembly or the module.</summary>
    public const string ForbiddenAttribute = "BT0104";
    /// <summary>A call whose result differs between processes or runs: the wall clock, randomized hashes.</summary>
    public const string Nondeterministic = "BT0105";
    /// <summary>There must be exactly one public, non-abstract, top-level class deriving from Strategy.</summary>
    public const string StrategyClassCount = "BT0200";
    /// <summary>The strategy class has the wrong shape (generic, no public parameterless constructor, a template's name).</summary>
    public const string StrategyClassShape = "BT0201";
    /// <summary>A [Parameter] property the schema cannot describe.</summary>
    public const string ParameterShape = "BT0202";
    /// <summary>Creating the strategy threw (reported by the worker when a run loads it; compiling creates nothing).</summary>
    public const string ConstructionFailed = "BT0203";
    /// <summary>Compiling did not finish within the caller's timeout.</summary>
    public const string CompileTimedOut = "BT0204";
    /// <summary>The compiler process overflowed its stack (reported by the host that ran it, naming the method).</summary>
    public const string CompileStackOverflow = "BT0205";
    /// <summary>
    /// The compiled assembly breaks a rule of the metadata audit (<see cref="Compiler.AssemblyAudit"/>): a reference
    /// outside the allow-list, a layout, a module initializer, a native import, an attribute, a reserved namespace.
    /// </summary>
    public const string AssemblyAudit = "BT0300";
}

/// <summary>
/// Walks a parsed and bound strategy and reports every use of something outside the allow-list, and every
/// forbidden construct, at its line. It checks what names bind to (types, members, generic arguments), not
/// the text, so aliases, <c>var</c> and fully qualified names cannot get around it.
/// </summary>
internal sealed class SandboxChecker(CSharpCompilation compilation, SemanticModel model)
{
    private readonly List<CompileDiagnostic> _found = [];
    private readonly HashSet<(int Line, string What)> _seen = [];

    public List<CompileDiagnostic> Check(SyntaxNode root)
    {
        // Constructs first, so their specific message wins over what the same line's bindings would say.
        var nodes = root.DescendantNodesAndSelf().ToList();
        foreach (var node in nodes)
        {
            CheckConstruct(node);
        }

        foreach (var expression in nodes.OfType<ExpressionSyntax>())
        {
            CheckBinding(expression);
        }

        CheckAssemblyAndModuleAttributes();
        return _found;
    }

    private void CheckConstruct(SyntaxNode node)
    {
        switch (node)
        {
            case UsingDirectiveSyntax { Name: { } name, Alias: null, StaticKeyword.RawKind: 0 }
                when model.GetSymbolInfo(name).Symbol is INamespaceSymbol ns && !SandboxPolicy.IsAllowedNamespace(ns.ToDisplayString()):
                var text = ns.ToDisplayString();
                Report(name, SandboxRules.ForbiddenApi, text, $"namespace '{text}' is not allowed in a strategy: {SandboxPolicy.ReasonFor(text, text)}");
                break;
            case ExternAliasDirectiveSyntax:
                Report(node, SandboxRules.ForbiddenConstruct, "extern alias", "extern alias is not allowed in a strategy");
                break;
            case AttributeListSyntax { Target: { } target }
                when target.Identifier.ValueText is "assembly" or "module":
                // ValueText, not the token's kind: @assembly is an identifier token that still means the assembly.
                Report(node, SandboxRules.ForbiddenConstruct, "assembly attribute", AssemblyAttributeMessage);
                break;
            case AttributeSyntax attribute:
                CheckAttribute(attribute);
                break;
            case BaseNamespaceDeclarationSyntax declaration
                when model.GetDeclaredSymbol(declaration) is INamespaceSymbol declared && SandboxPolicy.IsReservedNamespace(declared.ToDisplayString()):
                ReportNamespace(declaration.Name, declared.ToDisplayString());
                break;
            case BaseTypeDeclarationSyntax or DelegateDeclarationSyntax
                when model.GetDeclaredSymbol(node) is INamedTypeSymbol { ContainingNamespace: { IsGlobalNamespace: false } ns }
                    && SandboxPolicy.IsReservedNamespace(ns.ToDisplayString()):
                ReportNamespace(node is BaseTypeDeclarationSyntax type ? type.Identifier : ((DelegateDeclarationSyntax)node).Identifier, ns.ToDisplayString());
                break;
            case DestructorDeclarationSyntax:
                Report(node, SandboxRules.ForbiddenConstruct, "finalizer",
                    "finalizers are not allowed in a strategy: they run on the runtime's thread, outside the backtest's control");
                break;
            case GlobalStatementSyntax:
                Report(node, SandboxRules.ForbiddenConstruct, "top-level statement",
                    "top-level statements are not allowed: put the code in the strategy class");
                break;
            case UnsafeStatementSyntax or FixedStatementSyntax or PointerTypeSyntax or FunctionPointerTypeSyntax:
                Report(node, SandboxRules.UnsafeCode, "unsafe", "unsafe code and pointers are not allowed in a strategy");
                break;
            case StackAllocArrayCreationExpressionSyntax or ImplicitStackAllocArrayCreationExpressionSyntax:
                Report(node, SandboxRules.UnsafeCode, "stackalloc", "stackalloc is not allowed in a strategy (use an array)");
                break;
            case PrefixUnaryExpressionSyntax unary
                when unary.IsKind(SyntaxKind.AddressOfExpression) || unary.IsKind(SyntaxKind.PointerIndirectionExpression):
                Report(node, SandboxRules.UnsafeCode, "unsafe", "unsafe code and pointers are not allowed in a strategy");
                break;
            case MemberAccessExpressionSyntax access when access.IsKind(SyntaxKind.PointerMemberAccessExpression):
                Report(node, SandboxRules.UnsafeCode, "unsafe", "unsafe code and pointers are not allowed in a strategy");
                break;
            case MakeRefExpressionSyntax or RefTypeExpressionSyntax or RefValueExpressionSyntax:
                Report(node, SandboxRules.ForbiddenConstruct, "typed reference", "__makeref, __reftype and __refvalue are not allowed in a strategy");
                break;
            case TypeOfExpressionSyntax:
                Report(node, SandboxRules.ForbiddenApi, "System.Type", "typeof is not allowed in a strategy: reflection is not allowed");
                break;
        }

        var modifiers = node switch
        {
            MemberDeclarationSyntax member => member.Modifiers,
            LocalFunctionStatementSyntax local => local.Modifiers,
            _ => default,
        };
        foreach (var modifier in modifiers)
        {
            if (modifier.IsKind(SyntaxKind.UnsafeKeyword))
            {
                Report(modifier, SandboxRules.UnsafeCode, "unsafe", "unsafe code and pointers are not allowed in a strategy");
            }
            else if (modifier.IsKind(SyntaxKind.ExternKeyword))
            {
                Report(modifier, SandboxRules.ForbiddenConstruct, "extern",
                    "extern methods (P/Invoke into native code) are not allowed in a strategy");
            }
        }

        if (node is ArgumentSyntax { Expression: LiteralExpressionSyntax literal } && literal.Token.IsKind(SyntaxKind.ArgListKeyword))
        {
            Report(node, SandboxRules.ForbiddenConstruct, "__arglist", "__arglist is not allowed in a strategy");
        }
    }

    private const string AssemblyAttributeMessage =
        "assembly and module attributes are not allowed in a strategy (no type forwarding, no module initializers)";

    private void ReportNamespace(SyntaxNodeOrToken at, string ns)
    {
        var message = $"a strategy may not declare types in namespace '{ns}' ({string.Join(", ", SandboxPolicy.ReservedNamespaceRoots)} are reserved, however written)";
        Report(at.GetLocation()!, SandboxRules.ReservedNamespace, "namespace " + ns, message);
    }

    /// <summary>Decided on the attribute class the name binds to: only the allow-list, never one the strategy declares.</summary>
    private void CheckAttribute(AttributeSyntax attribute)
    {
        var symbol = model.GetSymbolInfo(attribute).Symbol ?? model.GetSymbolInfo(attribute).CandidateSymbols.FirstOrDefault();
        var type = (symbol as IMethodSymbol)?.ContainingType ?? model.GetTypeInfo(attribute).Type as INamedTypeSymbol;
        if (type is null or IErrorTypeSymbol)
        {
            return; // the C# compiler reports an unknown attribute itself
        }

        var full = FullName(type);
        if (IsFromSource(type) || !SandboxPolicy.AllowedAttributes.Contains(full))
        {
            Report(attribute, SandboxRules.ForbiddenAttribute, "attribute " + full,
                $"attribute '{full}' is not allowed in a strategy: only {string.Join(", ", SandboxPolicy.AllowedAttributes.Select(a => "[" + a[(a.LastIndexOf('.') + 1)..^"Attribute".Length] + "]"))} are" +
                (IsFromSource(type) ? " (the strategy declares this attribute class itself)" : " (many attributes change how the runtime lays out or runs code)"));
        }
    }

    /// <summary>Whatever the syntax looked like, the compiled assembly and module carry no attribute of the strategy's.</summary>
    private void CheckAssemblyAndModuleAttributes()
    {
        foreach (var attribute in compilation.Assembly.GetAttributes().Concat(compilation.SourceModule.GetAttributes()))
        {
            var location = attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? Location.None;
            Report(location, SandboxRules.ForbiddenConstruct, "assembly attribute", AssemblyAttributeMessage);
        }
    }

    private void CheckBinding(ExpressionSyntax node)
    {
        CheckSymbol(node, model.GetSymbolInfo(node).Symbol);
        var type = model.GetTypeInfo(node);
        CheckType(node, type.Type);
        CheckType(node, type.ConvertedType);
    }

    private void CheckSymbol(SyntaxNode node, ISymbol? symbol)
    {
        switch (symbol)
        {
            case null or INamespaceSymbol:
                return;
            case ITypeSymbol type:
                CheckType(node, type);
                return;
            case IAliasSymbol alias:
                CheckSymbol(node, alias.Target);
                return;
            case IMethodSymbol method:
                var definition = method.ReducedFrom ?? method;
                // GetHashCode is checked on the strategy's own types too: a record's or tuple's hash mixes in randomized ones.
                if (!IsFromSource(definition) || definition.Name == nameof(GetHashCode))
                {
                    CheckMember(node, definition.ContainingType, definition.Name);
                }

                foreach (var argument in method.TypeArguments)
                {
                    CheckType(node, argument);
                }

                return;
            case IPropertySymbol or IFieldSymbol or IEventSymbol:
                if (!IsFromSource(symbol))
                {
                    CheckMember(node, symbol.ContainingType, symbol.Name);
                }

                return;
            case ILocalSymbol local:
                CheckType(node, local.Type);
                return;
        }
    }

    private void CheckMember(SyntaxNode node, INamedTypeSymbol? containing, string name)
    {
        if (containing is null)
        {
            return;
        }

        var type = FullName(containing.OriginalDefinition);
        var full = type + "." + name;
        if (SandboxPolicy.DeniedMemberReason(type, name) is { } reason)
        {
            Report(node, name == "GetType" ? SandboxRules.ForbiddenApi : SandboxRules.Nondeterministic, full, $"'{full}' is not allowed in a strategy: {reason}");
        }

        CheckType(node, containing);
    }

    private void CheckType(SyntaxNode node, ITypeSymbol? type)
    {
        switch (type)
        {
            case null or IErrorTypeSymbol or ITypeParameterSymbol:
                return;
            case IDynamicTypeSymbol:
                Report(node, SandboxRules.ForbiddenConstruct, "dynamic", "dynamic is not allowed in a strategy");
                return;
            case IPointerTypeSymbol or IFunctionPointerTypeSymbol:
                Report(node, SandboxRules.UnsafeCode, "unsafe", "unsafe code and pointers are not allowed in a strategy");
                return;
            case IArrayTypeSymbol array:
                CheckType(node, array.ElementType);
                return;
            case INamedTypeSymbol named:
                if (named.IsTupleType)
                {
                    foreach (var element in named.TupleElements)
                    {
                        CheckType(node, element.Type);
                    }

                    return;
                }

                if (!named.IsAnonymousType && !IsFromSource(named))
                {
                    var outer = named.OriginalDefinition;
                    while (outer.ContainingType is not null)
                    {
                        outer = outer.ContainingType;
                    }

                    var ns = outer.ContainingNamespace.IsGlobalNamespace ? "" : outer.ContainingNamespace.ToDisplayString();
                    if (!SandboxPolicy.IsAllowedType(ns, outer.MetadataName))
                    {
                        var full = FullName(outer);
                        Report(node, SandboxRules.ForbiddenApi, full, $"'{full}' is not allowed in a strategy: {SandboxPolicy.ReasonFor(ns, full)}");
                        return;
                    }
                }

                foreach (var argument in named.TypeArguments)
                {
                    CheckType(node, argument);
                }

                return;
        }
    }

    private bool IsFromSource(ISymbol symbol) => SymbolEqualityComparer.Default.Equals(symbol.ContainingAssembly, compilation.Assembly);

    private static string FullName(INamedTypeSymbol type) =>
        type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted)
            .WithGenericsOptions(SymbolDisplayGenericsOptions.None)
            .RemoveMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.UseSpecialTypes));

    private void Report(SyntaxNode node, string id, string what, string message) => Report(node.GetLocation(), id, what, message);

    private void Report(SyntaxToken token, string id, string what, string message) => Report(token.GetLocation(), id, what, message);

    private void Report(Location location, string id, string what, string message)
    {
        var span = location.GetLineSpan();
        // One report per line and offending name: a qualified call binds at several nested nodes.
        if (_seen.Add((span.StartLinePosition.Line, what)))
        {
            _found.Add(StrategyCompiler.ToDiagnostic(id, CompileDiagnostic.Error, span, message));
        }
    }
}
