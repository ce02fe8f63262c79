"""Deploys CloudFormation templates into moto, strictly.

``StackDeployer(ctx).deploy(path, parameters)`` reads a template, checks
its parameters (missing required, unknown, not in ``AllowedValues`` ->
error), evaluates conditions and creates every resource in dependency
order (``Ref``/``GetAtt``/``DependsOn``) with the handlers of
:mod:`localcloud.resources`; ``AWS::CloudFormation::Stack`` deploys the
nested template (``TemplateURL`` relative to the parent). A resource type
or intrinsic it cannot handle is a :class:`TemplateError` naming the
template and resource — never a skip.
"""

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

from .resources import (
    HANDLERS,
    DeployContext,
    Deployed,
    not_emulated,
    placeholder,
)
from .templates import (
    Resolver,
    TemplateError,
    default_parameters,
    load_template,
    pseudo_parameters,
)

LOG = logging.getLogger("localcloud.stack")


@dataclass
class DeployedStack:
    """The result of one (possibly nested) stack."""

    name: str
    path: Path
    parameters: Dict[str, Any]
    outputs: Dict[str, Any] = field(default_factory=dict)
    resources: Dict[str, Deployed] = field(default_factory=dict)
    nested: Dict[str, "DeployedStack"] = field(default_factory=dict)

    def all_resources(self) -> List[Deployed]:
        """This stack's resources and every nested stack's."""
        found = list(self.resources.values())
        for child in self.nested.values():
            found += child.all_resources()
        return found


class StackDeployer:
    """Creates the resources of templates through ``ctx``'s clients."""

    def __init__(self, ctx: DeployContext) -> None:
        self.ctx = ctx
        self.skipped_types: Set[str] = set()

    def deploy(
        self,
        path: Path,
        parameters: Optional[Dict[str, Any]] = None,
        stack_name: Optional[str] = None,
    ) -> DeployedStack:
        """Deploy ``path`` (and nested stacks) with ``parameters``."""
        path = Path(path)
        if not path.is_file():
            raise TemplateError(f"{path} does not exist")
        template = load_template(path)
        name = stack_name or self.ctx.stack_name
        params = self._parameters(path, template, parameters or {})
        stack = DeployedStack(name, path, params)
        _Run(self, stack, template).deploy_all()
        return stack

    def _parameters(self, path: Path, template: Dict, given: Dict) -> Dict:
        declared = template.get("Parameters") or {}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise TemplateError(
                f"{path.name}: parameters not declared: {', '.join(unknown)}"
            )
        values = default_parameters(template)
        values.update(given)
        for name, spec in declared.items():
            if name not in values:
                raise TemplateError(
                    f"{path.name}: parameter {name} has no default and no "
                    "value"
                )
            allowed = spec.get("AllowedValues")
            if allowed and str(values[name]) not in [str(a) for a in allowed]:
                raise TemplateError(
                    f"{path.name}: parameter {name}={values[name]!r} not in "
                    f"AllowedValues {allowed}"
                )
        values.update(
            pseudo_parameters(
                self.ctx.region, self.ctx.account, self.ctx.stack_name
            )
        )
        return values

    def note_not_emulated(self, resource_type: str, where: str) -> None:
        """Log each not-emulated type once."""
        if resource_type not in self.skipped_types:
            self.skipped_types.add(resource_type)
            LOG.info(
                "not emulated locally: %s (first: %s)", resource_type, where
            )


class _Run:
    """Deploys the resources of one template, memoized per logical id."""

    def __init__(
        self, deployer: StackDeployer, stack: DeployedStack, template: Dict
    ) -> None:
        self.deployer = deployer
        self.stack = stack
        self.template = template
        self.resources: Dict[str, Dict] = template.get("Resources") or {}
        self._in_progress: List[str] = []
        self.resolver = Resolver(
            stack.parameters,
            template.get("Conditions"),
            ref=self._ref,
            get_att=self._get_att,
            where=stack.path.name,
            mappings=template.get("Mappings"),
        )

    def where(self, logical: str) -> str:
        return f"{self.stack.path.name}:{logical}"

    def deploy_all(self) -> None:
        for logical in self.resources:
            self._deploy(logical)
        for name, output in (self.template.get("Outputs") or {}).items():
            if "Condition" in output and not self.resolver.condition(
                output["Condition"]
            ):
                continue
            self.resolver.where = f"{self.stack.path.name}:Outputs.{name}"
            self.stack.outputs[name] = self.resolver.resolve(output["Value"])

    def _referenced(self, logical: str, how: str) -> Deployed:
        deployed = self._deploy(logical)
        if deployed is None:
            raise TemplateError(
                f"{self.stack.path.name}: {how} {logical}: resource is "
                "conditioned out"
            )
        return deployed

    def _ref(self, name: str) -> Any:
        if name not in self.resources:
            return None
        return self._referenced(name, "Ref").ref

    def _get_att(self, logical: str, attribute: str) -> Any:
        if logical not in self.resources:
            return None
        deployed = self._referenced(logical, "GetAtt")
        value = deployed.attrs.get(attribute)
        if value is None:
            raise TemplateError(
                f"{self.where(logical)}: attribute {attribute} is not "
                "available locally"
            )
        return value

    def _deploy(self, logical: str) -> Optional[Deployed]:
        if logical in self.stack.resources:
            return self.stack.resources[logical]
        if logical in self._in_progress:
            cycle = " -> ".join(self._in_progress + [logical])
            raise TemplateError(
                f"{self.stack.path.name}: dependency cycle {cycle}"
            )
        resource = self.resources[logical]
        condition = resource.get("Condition")
        if condition and not self.resolver.condition(condition):
            return None
        self._in_progress.append(logical)
        where = self.resolver.where
        try:
            depends = resource.get("DependsOn") or []
            for other in [depends] if isinstance(depends, str) else depends:
                self._deploy(other)
            deployed = self._create(logical, resource)
        finally:
            self._in_progress.pop()
            self.resolver.where = where
        self.stack.resources[logical] = deployed
        return deployed

    def _create(self, logical: str, resource: Dict) -> Deployed:
        kind = resource.get("Type", "")
        where = self.where(logical)
        if not_emulated(kind):
            self.deployer.note_not_emulated(kind, where)
            return placeholder(kind, logical)
        if kind == "AWS::CloudFormation::Stack":
            return self._nested(logical, resource)
        handler = HANDLERS.get(kind)
        if handler is None:
            raise TemplateError(
                f"{where}: resource type {kind} is not supported by the "
                "local cloud"
            )
        self.resolver.where = where
        props = self.resolver.resolve(resource.get("Properties") or {})
        # Physical names and relative paths follow the (nested) stack.
        ctx = dataclasses.replace(
            self.deployer.ctx,
            stack_name=self.stack.name,
            template_dir=self.stack.path.parent,
        )
        try:
            deployed = handler(ctx, logical, props)
            deployed.props = props
            return deployed
        except TemplateError as exc:
            raise TemplateError(f"{self.stack.path.name}:{exc}") from None
        except KeyError as exc:
            raise TemplateError(f"{where}: missing property {exc}") from None
        except Exception as exc:
            raise TemplateError(
                f"{where}: {type(exc).__name__}: {exc}"
            ) from exc

    def _nested(self, logical: str, resource: Dict) -> Deployed:
        where = self.where(logical)
        self.resolver.where = where
        props = self.resolver.resolve(resource.get("Properties") or {})
        url = props.get("TemplateURL")
        if not isinstance(url, str) or "://" in url:
            raise TemplateError(
                f"{where}: TemplateURL must be a path relative to the "
                f"template, got {url!r}"
            )
        path = (self.stack.path.parent / url).resolve()
        child = self.deployer.deploy(
            path,
            {k: v for k, v in (props.get("Parameters") or {}).items()},
            stack_name=f"{self.stack.name}-{logical}",
        )
        self.stack.nested[logical] = child
        attrs = {f"Outputs.{k}": v for k, v in child.outputs.items()}
        return Deployed(
            "AWS::CloudFormation::Stack", f"local-{logical}", attrs
        )
