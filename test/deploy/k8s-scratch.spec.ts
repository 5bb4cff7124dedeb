import { resolve } from 'node:path';
import { renderKustomization } from './kustomize';
import { validateManifests } from './k8s-schema';

it('scratch', () => {
  for (const dir of ['base', 'overlays/staging', 'overlays/production']) {
    const t0 = Date.now();
    const { manifests } = renderKustomization(resolve(__dirname, '../../deploy/k8s', dir), {
      substitute: (missing) => `${missing}.example`,
    });
    const problems = validateManifests(manifests);
    console.log(dir, manifests.map((m) => `${m.kind}/${m.metadata.name}@${m.metadata.namespace}`).join(' '), Date.now() - t0, JSON.stringify(problems, null, 1));
  }
  const { manifests } = renderKustomization(resolve(__dirname, '../../deploy/k8s/overlays/production'), { substitute: (m) => `${m}.example` });
  const d = manifests.find((m) => m.kind === 'Deployment')!;
  (d as any).spec.template.spec.containers[0].readinesProbe = {};
  (d as any).spec.replicas = 'three';
  (d as any).metadata.annotations = { x: 3 };
  const h = manifests.find((m) => m.kind === 'ServiceMonitor')!;
  (h as any).spec.endpoints[0].intervall = '15s';
  (h as any).spec.endpoints[0].interval = 'soon';
  console.log(JSON.stringify(validateManifests(manifests), null, 1));
  console.log(require('yaml').stringify(manifests.filter((m) => ['ConfigMap','Secret','Job'].includes(m.kind))));
});
