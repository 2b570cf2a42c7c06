// provider.vpc for serverless.yml from the params vpcSubnetIds and vpcSecurityGroupIds (comma-separated
// ids): both given → every function gets a VpcConfig; neither → no value, so serverless.yml's fallback
// (null) drops provider.vpc and the functions stay outside a VPC. A YAML default alone cannot split a list.
const ids = (text) =>
  String(text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

module.exports = async ({ resolveVariable }) => {
  const subnetIds = ids(await resolveVariable('param:vpcSubnetIds, ""'));
  const securityGroupIds = ids(await resolveVariable('param:vpcSecurityGroupIds, ""'));
  if (subnetIds.length === 0 && securityGroupIds.length === 0) return null;
  if (subnetIds.length === 0 || securityGroupIds.length === 0)
    throw new Error('give both vpcSubnetIds and vpcSecurityGroupIds (comma-separated ids), or neither');
  return { subnetIds, securityGroupIds };
};
