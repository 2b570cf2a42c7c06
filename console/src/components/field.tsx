// A labelled input with its problem underneath. The problem always starts with the field path: the
// schema's messages carry it already, and an API answer without it gets it put in front.
import type { ComponentChildren } from 'preact';
import type { FieldProblem } from '../../../shared/tasks/issue.ts';

export const inputId = (path: string) => `f-${path.replace(/\./g, '-')}`;

export function Field(props: {
  path: string;
  label: string;
  problem?: FieldProblem | undefined;
  hint?: string;
  children: ComponentChildren;
}) {
  const { path, problem } = props;
  const field = problem?.field ?? path;
  return (
    <div class={`field${problem ? ' has-error' : ''}`} data-path={path}>
      <label for={inputId(path)}>{props.label}</label>
      {props.children}
      {props.hint && <p class="hint">{props.hint}</p>}
      {problem && (
        <p class="field-error" role="alert" id={`${inputId(path)}-error`} data-field={field}>
          {!problem.message.startsWith(`${field}: `) && <code class="field-path">{field}: </code>}
          <span class="message">{problem.message}</span>
        </p>
      )}
    </div>
  );
}
