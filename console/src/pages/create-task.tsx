// New task: the spec's fields, checked as you go by the API's own schema; after submit, problems
// the API finds (same cluster on both sides, say) appear next to the field they name.
import { useState } from 'preact/hooks';
import type { InputHTMLAttributes } from 'preact';
import { ApiError, tasksApi } from '../api.ts';
import { Field, inputId } from '../components/field.tsx';
import { TaskPreviewPanel } from '../components/task-preview.tsx';
import { navigate, onLinkClick } from '../router.ts';
import type { TaskPreview } from '../../../shared/api/contract.ts';
import type { FieldProblem } from '../../../shared/tasks/issue.ts';
import { emptyForm, inputFor, toRequestBody, validate, type SideForm, type TaskForm } from '../task-form.ts';

export function CreateTask() {
  const [form, setForm] = useState<TaskForm>(emptyForm);
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [apiErrors, setApiErrors] = useState<ReadonlyMap<string, FieldProblem>>(new Map());
  const [busy, setBusy] = useState(false);
  // What the filters would take, read from the clusters on request; any edit makes it stale.
  const [preview, setPreview] = useState<TaskPreview | undefined>(undefined);

  const problems = validate(toRequestBody(form));
  const errorOf = (path: string): FieldProblem | undefined =>
    (submitted || touched.has(path) ? problems.get(path) : undefined) ?? apiErrors.get(path);

  const update = (path: string, change: (f: TaskForm) => TaskForm) => {
    setForm(change);
    setTouched((t) => new Set(t).add(path));
    setPreview(undefined);
    if (apiErrors.size) setApiErrors((m) => new Map([...m].filter(([k]) => k !== path)));
  };
  const setTop =
    <K extends keyof TaskForm>(path: string, key: K) =>
    (value: TaskForm[K]) =>
      update(path, (f) => ({ ...f, [key]: value }));
  const setSide = (side: 'source' | 'target', path: string, key: keyof SideForm) => (value: SideForm[keyof SideForm]) =>
    update(`${side}.${path}`, (f) => ({ ...f, [side]: { ...f[side], [key]: value } }));

  const showApiError = (err: unknown) => {
    const field = err instanceof ApiError ? err.field : undefined;
    const at = inputFor(field);
    setApiErrors(new Map([[at, { field, message: err instanceof Error ? err.message : String(err) }]]));
    if (at) document.getElementById(inputId(at))?.focus();
  };

  /** Reads the clusters now and shows which topics and groups the filters take; the name may still be empty. */
  const runPreview = async () => {
    setApiErrors(new Map());
    const body = toRequestBody(form);
    // A preview needs no name: every other problem shows, as on submit.
    const blocking = [...validate(body).keys()].filter((k) => k !== 'name');
    if (blocking.length > 0) {
      setTouched((t) => new Set([...t, ...blocking]));
      document.getElementById(inputId(blocking[0]!))?.focus();
      return;
    }
    // An empty name is left out: a preview takes none, but a given one must be valid.
    const { name, ...unnamed } = body;
    setBusy(true);
    try {
      setPreview(await tasksApi.previewTask(name === '' ? unnamed : body));
    } catch (err) {
      showApiError(err);
    } finally {
      setBusy(false);
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setSubmitted(true);
    setApiErrors(new Map());
    const body = toRequestBody(form);
    const first = [...validate(body).keys()][0];
    if (first !== undefined) {
      document.getElementById(inputId(first))?.focus();
      return;
    }
    setBusy(true);
    try {
      await tasksApi.createTask(body);
      // As in the spec's console, creating returns to the task list, where the new task's status shows.
      navigate('/');
    } catch (err) {
      showApiError(err);
    } finally {
      setBusy(false);
    }
  };

  const formError = errorOf('');
  const attrs = (path: string) => ({
    id: inputId(path),
    name: path,
    'aria-invalid': errorOf(path) !== undefined,
    'aria-describedby': errorOf(path) ? `${inputId(path)}-error` : undefined,
    onBlur: () => setTouched((t) => new Set(t).add(path)),
  });
  const text = (path: string, value: string, set: (v: string) => void, extra: InputHTMLAttributes = {}) => (
    <input {...attrs(path)} value={value} onInput={(e) => set(e.currentTarget.value)} {...extra} />
  );
  const select = <T extends string>(path: string, value: T, set: (v: T) => void, options: [T, string][]) => (
    <select {...attrs(path)} value={value} onChange={(e) => set(e.currentTarget.value as T)}>
      {options.map(([v, label]) => (
        <option value={v}>{label}</option>
      ))}
    </select>
  );
  const check = (path: string, value: boolean, set: (v: boolean) => void) => (
    <input type="checkbox" {...attrs(path)} checked={value} onChange={(e) => set(e.currentTarget.checked)} />
  );

  const side = (which: 'source' | 'target', title: string) => {
    const s = form[which];
    const p = (k: string) => `${which}.${k}`;
    return (
      <fieldset class="side" data-side={which}>
        <legend>{title}</legend>
        <Field path={p('clusterType')} label="Cluster type" problem={errorOf(p('clusterType'))}>
          {select(p('clusterType'), s.clusterType, setSide(which, 'clusterType', 'clusterType'), [
            ['self-built', 'Self-built RocketMQ'],
            ['tencent', 'Tencent Cloud TDMQ for RocketMQ'],
          ])}
        </Field>
        {s.clusterType === 'tencent' && (
          <Field path={p('region')} label="Region" problem={errorOf(p('region'))}>
            {text(p('region'), s.region, setSide(which, 'region', 'region'), { placeholder: 'ap-guangzhou' })}
          </Field>
        )}
        <Field path={p('clusterId')} label="Cluster ID" problem={errorOf(p('clusterId'))}>
          {text(p('clusterId'), s.clusterId, setSide(which, 'clusterId', 'clusterId'))}
        </Field>
        <Field path={p('protocol')} label="Protocol" problem={errorOf(p('protocol'))}>
          {select(p('protocol'), s.protocol, setSide(which, 'protocol', 'protocol'), [
            ['remoting', 'Remoting (name server)'],
            ['grpc', 'gRPC (5.x proxy)'],
          ])}
        </Field>
        {s.clusterType === 'self-built' && (
          <>
            <Field path={p('networkType')} label="Network connection type" problem={errorOf(p('networkType'))}>
              {select(p('networkType'), s.networkType, setSide(which, 'networkType', 'networkType'), [
                ['public', 'Public network'],
                ['vpc', 'VPC network'],
              ])}
            </Field>
            {s.networkType === 'vpc' && (
              <>
                <Field path={p('vpc.region')} label="VPC region" problem={errorOf(p('vpc.region'))}>
                  {text(p('vpc.region'), s.vpcRegion, setSide(which, 'vpc.region', 'vpcRegion'))}
                </Field>
                <Field path={p('vpc.vpcId')} label="VPC ID" problem={errorOf(p('vpc.vpcId'))}>
                  {text(p('vpc.vpcId'), s.vpcId, setSide(which, 'vpc.vpcId', 'vpcId'), { placeholder: 'vpc-…' })}
                </Field>
                <Field path={p('vpc.subnetId')} label="Subnet ID" problem={errorOf(p('vpc.subnetId'))}>
                  {text(p('vpc.subnetId'), s.subnetId, setSide(which, 'vpc.subnetId', 'subnetId'), { placeholder: 'subnet-…' })}
                </Field>
                <Field path={p('resourceType')} label="Resource type" problem={errorOf(p('resourceType'))}>
                  {select(p('resourceType'), s.resourceType, setSide(which, 'resourceType', 'resourceType'), [
                    ['tencent', 'Self-built on Tencent Cloud'],
                    ['other-cloud', 'Self-built at another cloud provider'],
                  ])}
                </Field>
                {s.resourceType === 'other-cloud' && (
                  <>
                    <Field path={p('dedicatedLine.type')} label="Dedicated line connection type" problem={errorOf(p('dedicatedLine.type'))}>
                      {select(p('dedicatedLine.type'), s.dedicatedLineType, setSide(which, 'dedicatedLine.type', 'dedicatedLineType'), [
                        ['ccn', 'Cloud Connect Network (CCN)'],
                        ['dcg', 'Direct Connect Gateway'],
                      ])}
                    </Field>
                    <Field
                      path={p('dedicatedLine.id')}
                      label="Dedicated connect gateway ID / CCN ID"
                      problem={errorOf(p('dedicatedLine.id'))}
                    >
                      {text(p('dedicatedLine.id'), s.dedicatedLineId, setSide(which, 'dedicatedLine.id', 'dedicatedLineId'))}
                    </Field>
                  </>
                )}
              </>
            )}
            <Field
              path={p('nameServer')}
              label="Name server address"
              hint="host:port; separate several with ;"
              problem={errorOf(p('nameServer'))}
            >
              {text(p('nameServer'), s.nameServer, setSide(which, 'nameServer', 'nameServer'), {
                placeholder: '10.0.0.1:9876;10.0.0.2:9876',
              })}
            </Field>
          </>
        )}
        <Field path={p('acl.enabled')} label="ACL enabled on this cluster" problem={errorOf(p('acl.enabled'))}>
          {check(p('acl.enabled'), s.aclEnabled, setSide(which, 'acl.enabled', 'aclEnabled'))}
        </Field>
        {s.aclEnabled && (
          <>
            <Field path={p('acl.accessKey')} label="Access key (admin)" problem={errorOf(p('acl.accessKey'))}>
              {text(p('acl.accessKey'), s.accessKey, setSide(which, 'acl.accessKey', 'accessKey'), { autocomplete: 'off' })}
            </Field>
            <Field path={p('acl.secretKey')} label="Secret key" problem={errorOf(p('acl.secretKey'))}>
              {text(p('acl.secretKey'), s.secretKey, setSide(which, 'acl.secretKey', 'secretKey'), {
                type: 'password',
                autocomplete: 'new-password',
              })}
            </Field>
          </>
        )}
      </fieldset>
    );
  };

  return (
    <section class="page">
      <header class="page-head">
        <h1>New replication task</h1>
        <a href="/" onClick={onLinkClick}>
          Back to tasks
        </a>
      </header>
      <form class="task-form" onSubmit={submit} noValidate aria-label="New task">
        {formError && (
          <p class="form-error" role="alert">
            {formError.field && !formError.message.startsWith(`${formError.field}: `) && (
              <code class="field-path">{formError.field}: </code>
            )}
            {formError.message}
          </p>
        )}
        <fieldset>
          <legend>Basic information</legend>
          <Field
            path="name"
            label="Task name"
            hint="Up to 200 characters: Chinese characters, letters, digits, - and _"
            problem={errorOf('name')}
          >
            {text('name', form.name, setTop('name', 'name'))}
          </Field>
          <Field path="direction" label="Replication direction" problem={errorOf('direction')}>
            {select('direction', form.direction, setTop('direction', 'direction'), [
              ['one-way', 'One-way (source → target)'],
              ['two-way', 'Two-way (both ways, no loops)'],
            ])}
          </Field>
        </fieldset>
        <div class="sides">
          {side('source', 'Source cluster')}
          {side('target', 'Target cluster')}
        </div>
        <fieldset>
          <legend>Replication</legend>
          <Field path="startOffset.type" label="Start offset" problem={errorOf('startOffset.type')}>
            {select('startOffset.type', form.startOffsetType, setTop('startOffset.type', 'startOffsetType'), [
              ['latest', 'Latest (new messages only)'],
              ['earliest', 'Earliest (everything stored)'],
              ['timestamp', 'From a point in time'],
            ])}
          </Field>
          {form.startOffsetType === 'timestamp' && (
            <Field path="startOffset.timestamp" label="Start time" problem={errorOf('startOffset.timestamp')}>
              {text('startOffset.timestamp', form.startTime, setTop('startOffset.timestamp', 'startTime'), {
                type: 'datetime-local',
                step: 1,
              })}
            </Field>
          )}
          <Field
            path="filter.topics.include"
            label="Topics to include"
            hint="Regular expressions on whole topic names, one per line"
            problem={errorOf('filter.topics.include')}
          >
            <textarea
              {...attrs('filter.topics.include')}
              rows={2}
              value={form.include}
              onInput={(e) => setTop('filter.topics.include', 'include')(e.currentTarget.value)}
            />
          </Field>
          <Field
            path="filter.topics.exclude"
            label="Topics to exclude"
            hint="One per line; empty excludes nothing"
            problem={errorOf('filter.topics.exclude')}
          >
            <textarea
              {...attrs('filter.topics.exclude')}
              rows={2}
              value={form.exclude}
              onInput={(e) => setTop('filter.topics.exclude', 'exclude')(e.currentTarget.value)}
            />
          </Field>
          <Field path="filter.expression.type" label="Message filter" problem={errorOf('filter.expression.type')}>
            {select('filter.expression.type', form.expressionType, setTop('filter.expression.type', 'expressionType'), [
              ['TAG', 'Tag'],
              ['SQL92', 'SQL92'],
            ])}
          </Field>
          <Field
            path="filter.expression.value"
            label={form.expressionType === 'TAG' ? 'Tag expression' : 'SQL92 expression'}
            hint={form.expressionType === 'TAG' ? '* for every message, or tagA || tagB' : "e.g. region = 'gz' AND amount > 100"}
            problem={errorOf('filter.expression.value')}
          >
            {text('filter.expression.value', form.expressionValue, setTop('filter.expression.value', 'expressionValue'))}
          </Field>
          <Field
            path="tpsLimit"
            label="TPS limit"
            hint="Replicated messages per second for the whole task; empty for no limit"
            problem={errorOf('tpsLimit')}
          >
            {text('tpsLimit', form.tpsLimit, setTop('tpsLimit', 'tpsLimit'), { type: 'number', min: 1, step: 1 })}
          </Field>
          <Field path="idempotentResume" label="Idempotent resume (no duplicates after a crash)" problem={errorOf('idempotentResume')}>
            {check('idempotentResume', form.idempotentResume, setTop('idempotentResume', 'idempotentResume'))}
          </Field>
          <Field path="start" label="Start replicating when created" problem={errorOf('start')}>
            {check('start', form.start, setTop('start', 'start'))}
          </Field>
        </fieldset>
        {preview && <TaskPreviewPanel preview={preview} />}
        <div class="form-buttons">
          <button type="button" onClick={runPreview} disabled={busy}>
            Preview
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Create task
          </button>
        </div>
      </form>
    </section>
  );
}
